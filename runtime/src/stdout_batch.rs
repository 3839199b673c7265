//! Log lines to stdout, written in batches while a server is serving.
//!
//! One `write(2)` per line costs more than the rest of a call's logging together, and far more
//! on a pipe (what Cloud Run's log collector reads), where each write also wakes the reader.
//! While a server serves, each thread appends its lines to its own buffer (a lock only that
//! thread and the flusher ever take) and a flusher thread writes what each thread gathered in a
//! short window with one write, straight from that buffer. Outside serving (start-up, after the drain) every line is written at
//! once, so nothing waits in a buffer when the process exits.
//!
//! Lines from one thread keep their order; lines from different threads written in the same
//! window may be swapped (each carries its own `time`, which Cloud Logging sorts by).

use std::cell::OnceCell;
use std::fs::File;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::Thread;
use std::time::Duration;

/// How long the flusher lets lines gather after the first one arrives.
const BATCH_WINDOW: Duration = Duration::from_millis(5);
/// A thread buffer this large is written by its own thread rather than waiting for the flusher:
/// memory stays bounded when stdout is slower than the logging.
const MAX_BUFFERED: usize = 256 * 1024;

type LineBuffer = Arc<Mutex<Vec<u8>>>;

/// The process's stdout, shared by every server whose logs go there.
pub(crate) struct StdoutBatch {
    out: Output,
    /// Every thread's buffer. Locked when a thread logs for the first time and by flushes.
    buffers: Mutex<Vec<LineBuffer>>,
    /// Serializes writes to the descriptor so a batch is never interleaved with a direct line.
    /// Holds the spare buffer a flush swaps with each thread's, so lines are written from where
    /// they were formatted, never copied, and no buffer is allocated once they have grown.
    write_lock: Mutex<Vec<u8>>,
    /// Whether some buffer holds lines the flusher has not been woken for.
    dirty: AtomicBool,
    /// Servers currently serving; batching is on while this is above zero.
    serving: AtomicUsize,
    /// `None` when the flusher thread could not be started: then every line is written at once.
    flusher: OnceLock<Option<Thread>>,
}

enum Output {
    /// A duplicate of file descriptor 1, written without `std::io::Stdout`'s lock.
    #[cfg_attr(not(unix), allow(dead_code))]
    Fd(File),
    /// Used only if descriptor 1 cannot be duplicated.
    Stdout,
}

impl Output {
    fn write_all(&self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Output::Fd(file) => (&*file).write_all(bytes),
            Output::Stdout => io::stdout().lock().write_all(bytes),
        }
    }
}

thread_local! {
    static BUFFER: OnceCell<LineBuffer> = const { OnceCell::new() };
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves only bytes behind; keep logging.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl StdoutBatch {
    /// The one instance for this process.
    pub(crate) fn get() -> &'static StdoutBatch {
        static STDOUT: OnceLock<StdoutBatch> = OnceLock::new();
        STDOUT.get_or_init(|| {
            #[cfg(unix)]
            let out = {
                use std::os::fd::AsFd;
                match io::stdout().as_fd().try_clone_to_owned() {
                    Ok(fd) => Output::Fd(File::from(fd)),
                    Err(_) => Output::Stdout,
                }
            };
            #[cfg(not(unix))]
            let out = Output::Stdout;
            StdoutBatch {
                out,
                buffers: Mutex::new(Vec::new()),
                write_lock: Mutex::new(Vec::new()),
                dirty: AtomicBool::new(false),
                serving: AtomicUsize::new(0),
                flusher: OnceLock::new(),
            }
        })
    }

    /// Appends `bytes` (whole lines, or parts of lines in order) for this thread.
    pub(crate) fn write(&'static self, bytes: &[u8]) -> io::Result<()> {
        self.write_with(|buf| buf.extend_from_slice(bytes))
    }

    /// Appends what `fill` writes into this thread's buffer, formatting it in place rather than
    /// copying it there. `fill` must only append.
    pub(crate) fn write_with<F: FnOnce(&mut Vec<u8>)>(&'static self, fill: F) -> io::Result<()> {
        let unbatched = |fill: Option<F>| {
            let mut bytes = Vec::new();
            if let Some(fill) = fill {
                fill(&mut bytes);
            }
            self.write_out(&bytes)
        };
        if self.serving.load(Ordering::Acquire) == 0 {
            return unbatched(Some(fill));
        }
        let Some(flusher) = self.flusher() else {
            return unbatched(Some(fill));
        };
        let mut fill = Some(fill);
        let overflow = BUFFER.try_with(|cell| {
            let buffer = cell.get_or_init(|| {
                let buffer = LineBuffer::default();
                lock(&self.buffers).push(Arc::clone(&buffer));
                buffer
            });
            let mut lines = lock(buffer);
            if let Some(fill) = fill.take() {
                fill(&mut lines);
            }
            (lines.len() >= MAX_BUFFERED).then(|| std::mem::take(&mut *lines))
        });
        match overflow {
            // The thread is exiting and its buffer is gone: write directly.
            Err(_) => return unbatched(fill),
            Ok(Some(full)) => return self.write_out(&full),
            Ok(None) => {}
        }
        // Only the line that finds the flag clear wakes the flusher: one wake per batch.
        if !self.dirty.load(Ordering::SeqCst) && !self.dirty.swap(true, Ordering::SeqCst) {
            flusher.unpark();
        }
        Ok(())
    }

    /// Turns batching on until the returned guard is dropped; dropping it writes whatever is
    /// buffered before returning.
    pub(crate) fn serving(&'static self) -> Serving {
        self.serving.fetch_add(1, Ordering::AcqRel);
        Serving { batch: self }
    }

    /// Writes every buffered line now.
    pub(crate) fn flush(&self) {
        // Held throughout, so two flushes cannot swap their batches.
        let mut spare = lock(&self.write_lock);
        let buffers: Vec<LineBuffer> = {
            let mut buffers = lock(&self.buffers);
            // Buffers of threads that have exited are held only here.
            buffers.retain(|b| Arc::strong_count(b) > 1 || !lock(b).is_empty());
            buffers.clone()
        };
        for buffer in &buffers {
            // The thread's lines leave with the swap; the thread goes on with the spare's
            // capacity and the lock is not held while writing.
            std::mem::swap(&mut *lock(buffer), &mut *spare);
            if !spare.is_empty() {
                // Nothing to do about a closed stdout but carry on serving.
                let _ = self.out.write_all(&spare);
                spare.clear();
            }
        }
    }

    fn write_out(&self, bytes: &[u8]) -> io::Result<()> {
        let _writing = lock(&self.write_lock);
        self.out.write_all(bytes)
    }

    fn flusher(&'static self) -> Option<&'static Thread> {
        self.flusher
            .get_or_init(|| {
                std::thread::Builder::new()
                    .name("cloudrun-log-flush".into())
                    .spawn(move || self.run_flusher())
                    .ok()
                    .map(|handle| handle.thread().clone())
            })
            .as_ref()
    }

    fn run_flusher(&self) {
        loop {
            while !self.dirty.load(Ordering::SeqCst) {
                std::thread::park();
            }
            std::thread::sleep(BATCH_WINDOW);
            // Cleared before the flush: a line appended after this wakes the next round.
            self.dirty.store(false, Ordering::SeqCst);
            self.flush();
        }
    }
}

/// Batching stays on while this lives; see [`StdoutBatch::serving`].
pub(crate) struct Serving {
    batch: &'static StdoutBatch,
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.batch.serving.fetch_sub(1, Ordering::AcqRel);
        self.batch.flush();
    }
}
