//! The signals that start a graceful shutdown: SIGTERM (what Cloud Run sends, 10 s before
//! SIGKILL) and SIGINT (Ctrl-C when running locally). A second one during the drain cuts it short.

use crate::Error;

/// Installed signal handlers. Installing them is what stops the default action (immediate
/// termination), so it happens before the server reports SERVING.
pub(crate) struct Signals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl Signals {
    pub(crate) fn install() -> Result<Self, Error> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                terminate: signal(SignalKind::terminate()).map_err(Error::Signals)?,
                interrupt: signal(SignalKind::interrupt()).map_err(Error::Signals)?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Signals {})
        }
    }

    /// Waits for the next signal and names it.
    pub(crate) async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                Some(()) = self.terminate.recv() => "SIGTERM",
                Some(()) = self.interrupt.recv() => "SIGINT",
                // Both streams ended: the runtime is going away, no signal will come.
                else => std::future::pending().await,
            }
        }
        #[cfg(not(unix))]
        {
            match tokio::signal::ctrl_c().await {
                Ok(()) => "Ctrl-C",
                Err(_) => std::future::pending().await,
            }
        }
    }
}
