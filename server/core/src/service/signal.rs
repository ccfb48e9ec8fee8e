//! Tells followers of the change log (the search indexer, realtime) that new changes
//! are durable, without them polling the store in a tight loop.

use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use crate::store::Seq;

/// The highest sequence known to be on disk, and a way to wait for it to move.
#[derive(Default)]
pub struct DurableSignal {
    last: Mutex<Seq>,
    moved: Condvar,
}

impl DurableSignal {
    /// Records that everything up to `seq` is durable and wakes every waiter.
    pub fn advance(&self, seq: Seq) {
        let mut last = self.last.lock();
        if seq > *last {
            *last = seq;
            self.moved.notify_all();
        }
    }

    /// The highest durable sequence seen so far (0 before the first write of this run).
    pub fn last(&self) -> Seq {
        *self.last.lock()
    }

    /// Blocks until the durable sequence passes `after` or `timeout` elapses, and returns
    /// the durable sequence then. Followers call it in a loop and read
    /// `RecordStore::changes_since` for what is new; the timeout bounds how long a
    /// follower sleeps, so one that missed a wake-up still catches up.
    pub fn wait_past(&self, after: Seq, timeout: Duration) -> Seq {
        let mut last = self.last.lock();
        if *last <= after {
            self.moved.wait_for(&mut last, timeout);
        }
        *last
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn wait_past_returns_once_advanced() {
        let signal = Arc::new(DurableSignal::default());
        let s = signal.clone();
        let waiter = std::thread::spawn(move || s.wait_past(0, Duration::from_secs(10)));
        std::thread::sleep(Duration::from_millis(20));
        signal.advance(7);
        assert_eq!(waiter.join().unwrap(), 7);
        signal.advance(3);
        assert_eq!(signal.last(), 7, "the durable sequence never goes back");
        assert_eq!(signal.wait_past(9, Duration::from_millis(10)), 7);
    }
}
