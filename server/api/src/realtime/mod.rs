//! Realtime (SSE), PocketBase's protocol: `GET /api/realtime` opens an event stream
//! whose first message names the client, `POST /api/realtime` replaces that client's
//! subscriptions, and the [`Follower`] turns durable change-log entries into events.
//!
//! Invariants:
//! - Every event is decided per subscriber by `Services::realtime_event` with that
//!   subscriber's auth: nothing here looks at a record's values.
//! - Nothing blocks on a client: each has a bounded queue, and one that falls
//!   [`RealtimeLimits::queue`] messages behind is disconnected (it can reconnect).

mod follower;
mod oauth2;
mod stream;
mod subscribe;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use basalt_core::service::{Principal, Topic};
use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use tokio::sync::{mpsc, Notify};

pub use follower::Follower;
pub use oauth2::oauth2_redirect;
pub use stream::connect;
pub use subscribe::set_subscriptions;

/// Numbers for every realtime limit.
#[derive(Clone, Debug)]
pub struct RealtimeLimits {
    /// Messages a client may have waiting before it is disconnected.
    pub queue: usize,
    /// A connection with no message and no subscription change for this long is closed.
    pub idle: Duration,
    /// The longest a connection lives; the SDK reconnects and resubscribes.
    pub max_lifetime: Duration,
    /// How often a comment line is sent so that proxies keep an idle stream open.
    pub ping: Duration,
    /// Connections open at once; more are refused with 503.
    pub max_clients: usize,
    /// Subscriptions per client, and the longest subscription string (PocketBase's).
    pub max_subscriptions: usize,
    pub max_topic_len: usize,
}

impl Default for RealtimeLimits {
    fn default() -> RealtimeLimits {
        RealtimeLimits {
            queue: 1024,
            idle: Duration::from_secs(300),
            max_lifetime: Duration::from_secs(1800),
            ping: Duration::from_secs(30),
            max_clients: 50_000,
            max_subscriptions: 1000,
            max_topic_len: 2500,
        }
    }
}

/// Every connected client.
pub struct Hub {
    pub limits: RealtimeLimits,
    clients: RwLock<HashMap<String, Arc<Client>>>,
    /// Set on shutdown: every stream ends and no new one opens.
    closed: AtomicBool,
    /// Wakes the follower, which idles while no client is connected, when one
    /// connects (see [`Hub::wait_for_client`]).
    arrival: Mutex<()>,
    arrived: parking_lot::Condvar,
}

/// One connection.
pub(crate) struct Client {
    pub id: String,
    /// The connection's IP: a subscription request from elsewhere is refused.
    pub ip: String,
    tx: mpsc::Sender<Bytes>,
    /// Wakes the stream to end it (fell behind, shutdown).
    kick: Notify,
    kicked: AtomicBool,
    /// Wakes the stream to restart its idle timer (a subscription request).
    touch: Notify,
    pub state: Mutex<ClientState>,
}

pub(crate) struct ClientState {
    /// Who the subscriptions are checked for; set by the first authenticated
    /// subscription request, kept current by the follower.
    pub who: Principal,
    pub topics: Vec<Topic>,
}

impl Hub {
    pub fn new(limits: RealtimeLimits) -> Hub {
        Hub {
            limits,
            clients: RwLock::new(HashMap::new()),
            closed: AtomicBool::new(false),
            arrival: Mutex::new(()),
            arrived: parking_lot::Condvar::new(),
        }
    }

    /// Returns when a client is connected, or after `timeout`.
    pub(crate) fn wait_for_client(&self, timeout: Duration) {
        let mut arrival = self.arrival.lock();
        if self.is_empty() {
            self.arrived.wait_for(&mut arrival, timeout);
        }
    }

    /// Ends every stream; called when the server shuts down.
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        for client in self.clients.write().drain().map(|(_, c)| c) {
            client.end();
        }
    }

    /// The number of open connections.
    pub fn len(&self) -> usize {
        self.clients.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn register(&self, ip: String) -> Option<(Arc<Client>, mpsc::Receiver<Bytes>)> {
        if self.closed.load(Ordering::SeqCst) {
            return None;
        }
        let (tx, rx) = mpsc::channel(self.limits.queue.max(1));
        let client = Arc::new(Client {
            id: basalt_core::ids::random_string(40),
            ip,
            tx,
            kick: Notify::new(),
            kicked: AtomicBool::new(false),
            touch: Notify::new(),
            state: Mutex::new(ClientState {
                who: Principal::Guest,
                topics: Vec::new(),
            }),
        });
        let mut clients = self.clients.write();
        if clients.len() >= self.limits.max_clients {
            return None;
        }
        clients.insert(client.id.clone(), client.clone());
        drop(clients);
        // Under `arrival`: a follower that saw no client is waiting by now.
        let _arrival = self.arrival.lock();
        self.arrived.notify_all();
        Some((client, rx))
    }

    fn unregister(&self, id: &str) {
        self.clients.write().remove(id);
    }

    pub(crate) fn get(&self, id: &str) -> Option<Arc<Client>> {
        self.clients.read().get(id).cloned()
    }

    /// A snapshot of the connected clients.
    pub(crate) fn clients(&self) -> Vec<Arc<Client>> {
        self.clients.read().values().cloned().collect()
    }

    /// Queues `message` for `client`; a client whose queue is full is disconnected.
    pub(crate) fn send(&self, client: &Client, message: Bytes) {
        match client.tx.try_send(message) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::info!(client = %client.id, "realtime client fell behind; disconnecting it");
                self.unregister(&client.id);
                client.end();
            }
            Err(mpsc::error::TrySendError::Closed(_)) => self.unregister(&client.id),
        }
    }
}

impl Client {
    fn end(&self) {
        self.kicked.store(true, Ordering::SeqCst);
        self.kick.notify_one();
    }
}

/// One SSE message in PocketBase's framing.
pub(crate) fn message(client_id: &str, event: &str, data: &str) -> Bytes {
    Bytes::from(format!("id:{client_id}\nevent:{event}\ndata:{data}\n\n"))
}
