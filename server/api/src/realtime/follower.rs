//! The follower: one thread that turns durable change-log entries into events.
//!
//! Invariants:
//! - Only durable changes are sent (sequence at most the durable signal), in log
//!   order, so each collection's events arrive in commit order.
//! - A create or update carries the record as it is when the event is sent (a later
//!   change of the same record sends its own event), and waits while a later write of
//!   that record is committed but not durable; a delete carries the state the change
//!   log kept. A record gone by the time its create or update is sent has no
//!   event for that change.
//! - The follower never waits on a client: it queues into bounded per-client queues.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use basalt_core::record::Record;
use basalt_core::schema::{Catalog, Collection};
use basalt_core::service::{Principal, Services};
use basalt_core::store::{Action, Change, Seq};
use bytes::Bytes;

use super::{message, Client, Hub};

/// Change-log entries read per step.
const BATCH: usize = 1024;
/// The longest the follower sleeps when nothing happens.
const IDLE_WAIT: Duration = Duration::from_millis(200);
/// How far past the durable sequence the follower looks for pending writes of a
/// record before sending its current state; a longer tail counts as pending.
const PENDING_MAX: usize = 4096;
/// The longest the follower waits for a pending write to become durable.
const PENDING_WAIT: Duration = Duration::from_millis(50);

enum Step {
    Done,
    Wait,
}

/// The running follower; stops when stopped or dropped.
pub struct Follower {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Follower {
    /// Starts following the change log from its current end: clients see what
    /// happens after they connect, never history.
    pub fn start(services: Arc<Services>, hub: Arc<Hub>) -> std::io::Result<Follower> {
        let cursor = log_end(&services);
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let mut state = State {
            services,
            hub,
            cursor,
            catalog: None,
        };
        let thread = std::thread::Builder::new()
            .name("basalt-realtime".into())
            .spawn(move || state.run(&flag))?;
        Ok(Follower {
            stop,
            thread: Some(thread),
        })
    }

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
    loop {
        match services.store().changes_since(end, 8192) {
            Ok(changes) => match changes.last() {
                Some(last) => end = last.seq,
                None => return end,
            },
            Err(e) => {
                tracing::error!(error = %e, "realtime cannot read the change log");
                return end;
            }
        }
    }
}

struct State {
    services: Arc<Services>,
    hub: Arc<Hub>,
    cursor: Seq,
    /// The catalog the clients' auth was last refreshed against.
    catalog: Option<Arc<Catalog>>,
}

impl State {
    fn run(&mut self, stop: &AtomicBool) {
        let signal = self.services.durable_signal();
        while !stop.load(Ordering::SeqCst) {
            if self.hub.is_empty() {
                // Nobody to tell: the changes need not be read, nor each durable
                // commit followed (a wake-up per commit under write load).
                self.cursor = self.cursor.max(signal.last());
                self.hub.wait_for_client(IDLE_WAIT);
                continue;
            }
            let limit = signal.wait_past(self.cursor, IDLE_WAIT);
            if limit <= self.cursor {
                continue;
            }
            match self.step(limit) {
                Ok(Step::Done) => {}
                // Wait for the durable sequence to move past what is pending.
                Ok(Step::Wait) => {
                    signal.wait_past(limit, PENDING_WAIT);
                }
                Err(e) => {
                    tracing::error!(error = %e, "realtime failed to read changes; retrying");
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
        }
    }

    /// Sends the events of the durable changes after the cursor, up to `limit`.
    fn step(&mut self, limit: Seq) -> basalt_core::Result<Step> {
        if self.hub.is_empty() {
            // Nobody to tell: the changes need not be read.
            self.cursor = limit;
            return Ok(Step::Done);
        }
        while self.cursor < limit {
            let changes = self.services.store().changes_since(self.cursor, BATCH)?;
            if changes.is_empty() {
                // What the signal reported durable was not a record write.
                self.cursor = limit;
                break;
            }
            for change in changes {
                if change.seq > limit {
                    return Ok(Step::Done);
                }
                if !self.hub.is_empty() {
                    let catalog = self.services.catalog();
                    let Some(collection) = catalog.by_id(&change.collection_id).cloned() else {
                        self.cursor = change.seq;
                        continue;
                    };
                    let Some(record) = self.shown(&collection, &change, limit)? else {
                        return Ok(Step::Wait);
                    };
                    self.dispatch(&catalog, &collection, &change, record);
                }
                self.cursor = change.seq;
            }
        }
        Ok(Step::Done)
    }

    /// The record `change`'s event shows: the state a delete kept, or the current
    /// state of a created or updated record (`Some(None)` when it is gone). `None`
    /// while a later write of the record is committed but not durable yet: its state
    /// must not reach anyone before it is on disk.
    fn shown(
        &self,
        collection: &Arc<Collection>,
        change: &Change,
        limit: Seq,
    ) -> basalt_core::Result<Option<Option<Record>>> {
        if change.action == Action::Delete {
            return Ok(Some(change.deleted.clone()));
        }
        let record = self.services.store().get(collection, &change.record_id)?;
        // Read after the record, so any write the read could have seen is listed.
        let pending = self.services.store().changes_since(limit, PENDING_MAX)?;
        let touched = pending.len() >= PENDING_MAX
            || pending
                .iter()
                .any(|p| p.record_id == change.record_id && p.collection_id == collection.id);
        Ok((!touched).then_some(record))
    }

    fn dispatch(
        &mut self,
        catalog: &Arc<Catalog>,
        collection: &Arc<Collection>,
        change: &Change,
        record: Option<Record>,
    ) {
        let clients = self.hub.clients();
        if !self
            .catalog
            .as_ref()
            .is_some_and(|c| Arc::ptr_eq(c, catalog))
        {
            self.catalog = Some(catalog.clone());
            self.refresh_auth(&clients, |_| true);
        }
        if collection.is_auth() && change.action != Action::Create {
            let (cid, rid) = (&collection.id, &change.record_id);
            self.refresh_auth(&clients, |(c, r)| c.id == *cid && r.id() == rid);
        }
        let Some(record) = record else {
            return;
        };
        let mut event = Event {
            services: &self.services,
            collection,
            record: &record,
            action: change.action,
            rendered: HashMap::new(),
        };
        for client in &clients {
            for bytes in event.messages_for(client) {
                self.hub.send(client, bytes);
            }
        }
    }

    /// Re-reads the auth of the clients whose auth `which` selects: an auth record
    /// that is gone or whose `tokenKey` changed leaves its clients as guests, like
    /// PocketBase (they may authenticate again with their next subscription request).
    fn refresh_auth(
        &self,
        clients: &[Arc<Client>],
        which: impl Fn((&Arc<Collection>, &Record)) -> bool,
    ) {
        for client in clients {
            let who = client.state.lock().who.clone();
            if !who.auth().is_some_and(|(c, r)| which((c, r))) {
                continue;
            }
            let fresh = self.services.refresh_principal(&who);
            client.state.lock().who = fresh;
        }
    }
}

/// One change being sent: the rendered data per (subscriber auth, subscription),
/// so identical subscribers cost one decision.
struct Event<'a> {
    services: &'a Services,
    collection: &'a Arc<Collection>,
    record: &'a Record,
    action: Action,
    rendered: HashMap<(String, String), Option<String>>,
}

impl Event<'_> {
    fn messages_for(&mut self, client: &Client) -> Vec<Bytes> {
        let state = client.state.lock();
        let mut out = Vec::new();
        for topic in &state.topics {
            if !topic.matches(self.collection, self.record.id()) {
                continue;
            }
            let key = (auth_key(&state.who), topic.raw.clone());
            let data = self.rendered.entry(key).or_insert_with(|| {
                match self.services.realtime_event(
                    &state.who,
                    topic,
                    self.collection,
                    self.record,
                    self.action,
                ) {
                    Ok(data) => data.map(|d| d.to_string()),
                    Err(e) => {
                        tracing::warn!(error = %e.message, "realtime event not rendered");
                        None
                    }
                }
            });
            if let Some(data) = data {
                out.push(message(&client.id, &topic.raw, data));
            }
        }
        out
    }
}

fn auth_key(who: &Principal) -> String {
    match who.auth() {
        Some((c, r)) => format!("{}/{}", c.id, r.id()),
        None => String::new(),
    }
}
