//! The after-hook follower: one thread that turns durable change-log entries into
//! plugin events, in commit order, off the request path.
//!
//! Each commit's writes come from core's journal (who wrote, the record before and
//! after). A commit the journal no longer holds (it fell behind by more than
//! `JOURNAL_MAX` commits) is rebuilt from the change log: the current record for
//! creates and updates, the last state for deletes, no previous state, actor
//! `System`. At shutdown (requests drained) it hands the last durable commits to the
//! plugins before the store closes. It starts at the log's end when the server
//! starts: after a crash, events of the commits it had not dispatched yet are not
//! replayed (the cursor is not persisted). Logins queued by the hooks are
//! dispatched from the same thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use basalt_core::hooks::{Actor as CoreActor, Captured};
use basalt_core::service::Services;
use basalt_core::store::{Change, Seq};
use basalt_plugin_api::RecordEvent;

use super::{actor, contained, record_action, Runtime};

const BATCH: usize = 1024;
/// How often the follower wakes without news (logins are picked up then too).
const IDLE_WAIT: Duration = Duration::from_millis(50);
/// A commit's journal entry may land just after another writer's flush made the
/// commit durable; the follower looks once more after this long.
const JOURNAL_GRACE: Duration = Duration::from_millis(20);

pub struct Follower {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Follower {
    pub fn start(services: Arc<Services>, runtime: Arc<Runtime>) -> std::io::Result<Follower> {
        let cursor = log_end(&services);
        let logins = runtime.login_queue.lock().take();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("basalt-plugins".into())
            .spawn(move || {
                let mut state = State {
                    services,
                    runtime,
                    cursor,
                    logins,
                };
                state.run(&flag)
            })?;
        Ok(Follower {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops after the events in hand; joins the thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn log_end(services: &Services) -> Seq {
    let mut end = 0;
    while let Ok(changes) = services.store().changes_since(end, 8192) {
        match changes.last() {
            Some(last) => end = last.seq,
            None => break,
        }
    }
    end
}

struct State {
    services: Arc<Services>,
    runtime: Arc<Runtime>,
    cursor: Seq,
    logins: Option<std::sync::mpsc::Receiver<super::Login>>,
}

impl State {
    fn run(&mut self, stop: &AtomicBool) {
        let signal = self.services.durable_signal();
        while !stop.load(Ordering::SeqCst) {
            let limit = signal.wait_past(self.cursor, IDLE_WAIT);
            if let Some(logins) = &self.logins {
                while let Ok(login) = logins.try_recv() {
                    self.runtime.dispatch_login(&login);
                }
            }
            if limit <= self.cursor {
                continue;
            }
            if let Err(e) = self.step(limit) {
                tracing::error!(error = %e, "plugins' follower failed to read changes; retrying");
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        // Shutdown: requests are drained, so every acknowledged write is durable. Hand
        // the last ones to the plugins before the store closes.
        let last = signal.last();
        if last > self.cursor {
            if let Err(e) = self.step(last) {
                tracing::error!(error = %e, "plugins' follower could not dispatch the last changes");
            }
        }
    }

    /// Dispatches the durable commits after the cursor, up to `limit`.
    fn step(&mut self, limit: Seq) -> basalt_core::Result<()> {
        while self.cursor < limit {
            let changes = self.services.store().changes_since(self.cursor, BATCH)?;
            if changes.is_empty() {
                self.cursor = limit;
                break;
            }
            let mut i = 0;
            while i < changes.len() {
                let seq = changes[i].seq;
                if seq > limit {
                    return Ok(());
                }
                let end = changes[i..]
                    .iter()
                    .position(|c| c.seq != seq)
                    .map_or(changes.len(), |n| i + n);
                self.commit(seq, &changes[i..end]);
                self.cursor = seq;
                i = end;
            }
        }
        Ok(())
    }

    fn commit(&self, seq: Seq, changes: &[Change]) {
        let journal = self.services.journal();
        let captured = journal.take(seq).or_else(|| {
            std::thread::sleep(JOURNAL_GRACE);
            journal.take(seq)
        });
        let events: Vec<RecordEvent> = match captured {
            Some(writes) => writes.iter().filter_map(|w| self.event(seq, w)).collect(),
            None => changes.iter().filter_map(|c| self.rebuilt(c)).collect(),
        };
        for event in &events {
            self.dispatch(event);
        }
    }

    fn event(&self, seq: Seq, w: &Captured) -> Option<RecordEvent> {
        let render = |r| self.services.render_system(&w.collection, r);
        let record = w.new.as_ref().or(w.old.as_ref())?;
        Some(RecordEvent {
            seq,
            action: record_action(w.action),
            collection: w.collection.name.clone(),
            id: w.record_id().to_owned(),
            record: render(record),
            old: match w.action {
                basalt_core::store::Action::Update => w.old.as_ref().map(render),
                _ => None,
            },
            actor: actor(&w.actor),
        })
    }

    /// An event from the change log alone (see the module docs).
    fn rebuilt(&self, change: &Change) -> Option<RecordEvent> {
        let catalog = self.services.catalog();
        let collection = catalog.by_id(&change.collection_id)?;
        let record = match &change.deleted {
            Some(r) => r.clone(),
            None => self
                .services
                .store()
                .get(collection, &change.record_id)
                .ok()??,
        };
        Some(RecordEvent {
            seq: change.seq,
            action: record_action(change.action),
            collection: collection.name.clone(),
            id: change.record_id.clone(),
            record: self.services.render_system(collection, &record),
            old: None,
            actor: actor(&CoreActor::System),
        })
    }

    fn dispatch(&self, event: &RecordEvent) {
        for plugin in &self.runtime.plugins {
            for hook in &plugin.registry.after {
                if hook.action != event.action || !hook.scope.matches(&event.collection) {
                    continue;
                }
                let result = contained(&plugin.name, "after", || (hook.run)(&*plugin.host, event));
                if let Ok(Err(e)) = result {
                    tracing::error!(
                        plugin = %plugin.name,
                        collection = %event.collection,
                        id = %event.id,
                        error = %e,
                        "after-hook failed"
                    );
                }
            }
        }
    }
}
