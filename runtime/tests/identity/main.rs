//! Caller identity on a served service, with tokens from a fake OIDC issuer on loopback: every
//! bad-token case and its code, rules from the method table and the allow-list, health without
//! a token, the caller in the handler, the principal in the logs (and never a token), each
//! token verified once, key rotation, and the platform mode.

mod doors;
mod modes;
mod rules;
mod tokens;

use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use cloudrun_fake_google::FakeGoogle;
use cloudrun_runtime::{AuthConfig, Server};
use serde_json::Value;
use tokio::sync::oneshot;

pub const AUDIENCE: &str = "https://doors.test";
pub const ALICE: &str = "alice@example.com";
pub const BOB: &str = "bob@elsewhere.org";

/// Log lines written by one server.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Logs {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }

    pub fn lines(&self) -> Vec<Value> {
        self.text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// A server with the doors services, in-process.
pub struct Doors {
    pub addr: SocketAddr,
    pub logs: Logs,
    stop: Option<oneshot::Sender<()>>,
}

impl Doors {
    pub async fn start(auth: AuthConfig) -> Doors {
        Self::start_with(auth, "info").await
    }

    pub async fn start_with(auth: AuthConfig, log_filter: &str) -> Doors {
        let logs = Logs::default();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = Server::new()
            .host("127.0.0.1".parse().unwrap())
            .port(0)
            .auth(auth)
            .log_filter(log_filter)
            .unwrap()
            .log_writer({
                let logs = logs.clone();
                move || logs.clone()
            })
            .add_service(doors::service())
            .add_service(doors::lobby())
            .shutdown_signal(async move {
                let _ = stopped.await;
            });
        let listening = server.bind().await.expect("binds");
        let addr = listening.local_addr();
        tokio::spawn(listening.serve());
        Doors {
            addr,
            logs,
            stop: Some(stop),
        }
    }

    pub async fn channel(&self) -> tonic::transport::Channel {
        tonic::transport::Endpoint::from_shared(format!("http://{}", self.addr))
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    /// Calls `path` with `token` (if any) as a bearer token; returns the answer (the caller's
    /// principal as the handler saw it) or the status.
    pub async fn call(
        &self,
        path: &'static str,
        token: Option<&str>,
    ) -> Result<String, tonic::Status> {
        let authorization = token.map(|t| format!("Bearer {t}"));
        self.call_with(path, authorization.as_deref()).await
    }

    pub async fn call_with(
        &self,
        path: &'static str,
        authorization: Option<&str>,
    ) -> Result<String, tonic::Status> {
        doors::call(&self.channel().await, path, authorization).await
    }
}

impl Drop for Doors {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// `verify` mode against `google`.
pub fn verify(google: &FakeGoogle) -> AuthConfig {
    AuthConfig::verify([AUDIENCE]).issuer(google.issuer())
}
