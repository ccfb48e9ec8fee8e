//! A real Basalt server on an ephemeral loopback port with its own temp directory;
//! shut down when dropped.
//!
//! Each server runs on a runtime of its own thread, and dropping it waits for the whole
//! shutdown (drain, flush, close). Were the server a task of the test's runtime, a test
//! ending without `shutdown().await` would cancel it mid-way and drop an unflushed
//! store while other tests' servers commit, which can deadlock sled (its transaction
//! lock is process-wide).

use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use tokio::sync::oneshot;

pub const EMAIL: &str = "root@example.com";
pub const PASSWORD: &str = "1234567890";

pub struct TestServer {
    pub url: String,
    pub token: String,
    pub client: Client,
    _dir: Option<tempfile::TempDir>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<anyhow::Result<()>>>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(|_| {}).await
    }

    /// A server whose configuration `adjust` changes first.
    pub async fn start_with(adjust: impl FnOnce(&mut basalt::Config)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let mut config = basalt::Config {
            dir: dir.path().to_path_buf(),
            // A test that leaves a request open should not hold its shutdown long.
            shutdown_timeout: std::time::Duration::from_secs(3),
            ..basalt::Config::default()
        };
        adjust(&mut config);
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let services = {
            let config = config.clone();
            tokio::task::spawn_blocking(move || basalt::open_services(&config))
                .await
                .unwrap()
                .unwrap()
        };
        services.upsert_superuser(EMAIL, PASSWORD).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("{scheme}://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("test-server".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()?;
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)?;
                    basalt::serve(services, &config, listener, async {
                        let _ = stopped.await;
                    })
                    .await
                })
            })
            .unwrap();
        let client = Client::builder()
            .danger_accept_invalid_certs(true)
            .build()
            .unwrap();
        let mut server = TestServer {
            url,
            token: String::new(),
            client,
            _dir: Some(dir),
            stop: Some(stop),
            thread: Some(thread),
        };
        let (status, body) = server
            .call(
                Method::POST,
                "/api/collections/_superusers/auth-with-password",
                Some(json!({"identity": EMAIL, "password": PASSWORD})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        server.token = body["token"].as_str().unwrap().to_owned();
        server
    }

    /// The data directory.
    pub fn dir(&self) -> &std::path::Path {
        self._dir.as_ref().expect("the data directory").path()
    }

    /// A request with the superuser token.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call_as(Some(&self.token), method, path, body).await
    }

    /// A request with the given token (`None` = guest).
    pub async fn call_as(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, format!("{}{}", self.url, path));
        if let Some(t) = token.filter(|t| !t.is_empty()) {
            req = req.header("Authorization", t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    /// Creates a collection and returns its JSON.
    pub async fn create_collection(&self, def: Value) -> Value {
        let (status, body) = self.call(Method::POST, "/api/collections", Some(def)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    pub async fn create_record(&self, collection: &str, body: Value) -> Value {
        let (status, out) = self
            .call(
                Method::POST,
                &format!("/api/collections/{collection}/records"),
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{out}");
        out
    }

    /// Signs `email` up in the auth collection `collection` (password `password123`)
    /// and signs it in: the record and its token.
    pub async fn sign_up(&self, collection: &str, email: &str) -> (Value, String) {
        let password = "password123";
        let body = json!({"email": email, "password": password, "passwordConfirm": password});
        let path = format!("/api/collections/{collection}/records");
        let (status, record) = self.call_as(None, Method::POST, &path, Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{record}");
        let login = json!({"identity": email, "password": password});
        let path = format!("/api/collections/{collection}/auth-with-password");
        let (status, auth) = self.call_as(None, Method::POST, &path, Some(login)).await;
        assert_eq!(status, StatusCode::OK, "{auth}");
        (record, auth["token"].as_str().unwrap().to_owned())
    }

    /// Stops the server and waits for its shutdown; returns the data directory, which
    /// is deleted when dropped.
    pub async fn shutdown(mut self) -> tempfile::TempDir {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let served = tokio::task::spawn_blocking(move || thread.join())
                .await
                .unwrap();
            served.unwrap().unwrap();
        }
        self._dir.take().expect("the data directory")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            // Blocks the test's thread only; the server finishes on its own runtime.
            let served = thread.join();
            if !std::thread::panicking() {
                served.unwrap().unwrap();
            }
        }
    }
}
