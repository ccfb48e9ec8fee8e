//! A real Basalt server on an ephemeral loopback port with its own temp directory;
//! shut down when dropped.

use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use tokio::sync::oneshot;

pub const EMAIL: &str = "root@example.com";
pub const PASSWORD: &str = "1234567890";

pub struct TestServer {
    pub url: String,
    pub token: String,
    pub client: Client,
    _dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
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
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("{scheme}://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            basalt::serve(services, &config, listener, async {
                let _ = stopped.await;
            })
            .await
        });
        let client = Client::builder()
            .danger_accept_invalid_certs(true)
            .build()
            .unwrap();
        let mut server = TestServer {
            url,
            token: String::new(),
            client,
            _dir: dir,
            stop: Some(stop),
            task: Some(task),
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
        self._dir.path()
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

    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
