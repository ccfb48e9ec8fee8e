//! Group commit: one thread flushes sled on behalf of every waiting writer.
//!
//! A writer that has committed calls [`Flusher::sync`]: it asks for the next flush to
//! *start* (one that began before its commit might not include it) and waits until
//! that flush has finished. Writers arriving while a flush runs all share the next one.

use std::sync::Arc;
use std::thread;

use parking_lot::{Condvar, Mutex};

#[derive(Default)]
struct State {
    /// Flushes started so far.
    started: u64,
    /// Flushes finished so far (successfully or not).
    finished: u64,
    /// Someone waits for a flush that has not started yet.
    pending: bool,
    /// The result of the last flush.
    last_error: Option<String>,
    stopping: bool,
}

struct Shared {
    state: Mutex<State>,
    wake_flusher: Condvar,
    wake_writers: Condvar,
}

pub struct Flusher {
    shared: Arc<Shared>,
    thread: Mutex<Option<thread::JoinHandle<()>>>,
}

impl Flusher {
    pub fn start(db: sled::Db) -> Flusher {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake_flusher: Condvar::new(),
            wake_writers: Condvar::new(),
        });
        let worker = shared.clone();
        let handle = thread::Builder::new()
            .name("basalt-flusher".into())
            .spawn(move || run(worker, db))
            .ok();
        Flusher {
            shared,
            thread: Mutex::new(handle),
        }
    }

    /// Blocks until everything committed before this call is on disk.
    pub fn sync(&self) -> Result<(), sled::Error> {
        let mut st = self.shared.state.lock();
        let target = st.started + 1;
        st.pending = true;
        self.shared.wake_flusher.notify_one();
        while st.finished < target {
            if st.stopping {
                return Err(sled::Error::Unsupported("the store is closing".into()));
            }
            self.shared.wake_writers.wait(&mut st);
        }
        match &st.last_error {
            Some(e) => Err(sled::Error::Unsupported(format!("flush failed: {e}"))),
            None => Ok(()),
        }
    }

    pub fn count(&self) -> u64 {
        self.shared.state.lock().finished
    }

    pub fn stop(&self) {
        self.shared.state.lock().stopping = true;
        self.shared.wake_flusher.notify_all();
        if let Some(h) = self.thread.lock().take() {
            let _ = h.join();
        }
    }
}

fn run(shared: Arc<Shared>, db: sled::Db) {
    loop {
        let epoch = {
            let mut st = shared.state.lock();
            while !st.pending && !st.stopping {
                shared.wake_flusher.wait(&mut st);
            }
            if st.stopping && !st.pending {
                shared.wake_writers.notify_all();
                return;
            }
            st.pending = false;
            st.started += 1;
            st.started
        };
        let result = db.flush();
        let mut st = shared.state.lock();
        st.finished = epoch;
        st.last_error = result.err().map(|e| e.to_string());
        shared.wake_writers.notify_all();
    }
}
