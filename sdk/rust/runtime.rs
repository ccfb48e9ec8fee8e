//! Basalt client runtime: the untyped half of a generated SDK. `basalt sdk generate
//! --lang rust` copies this file into the generated crate as `src/runtime.rs`; the
//! generated `src/lib.rs` adds one typed service per collection.
//!
//! HTTP is reqwest (JSON and multipart); realtime (SSE) is in `realtime.rs`.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, RwLock};

use reqwest::{Method, RequestBuilder};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::realtime::{RawSubscription, Subscription};

/// A field error of the error envelope.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FieldError {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

/// The error envelope of a failed request: `{status, message, data}` (+ Basalt's `code`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClientResponseError {
    #[serde(default)]
    pub status: u16,
    #[serde(default)]
    pub message: String,
    /// Field errors, keyed by field name.
    #[serde(default)]
    pub data: BTreeMap<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl ClientResponseError {
    /// The error of one field, when `data` names it with `{code, message}`.
    pub fn field(&self, name: &str) -> Option<FieldError> {
        serde_json::from_value(self.data.get(name)?.clone()).ok()
    }
}

/// Everything a call may fail with.
#[derive(Debug)]
pub enum Error {
    /// The server answered with an error status.
    Response(ClientResponseError),
    /// The request could not be sent or its answer not read.
    Http(reqwest::Error),
    /// The answer was not the JSON expected.
    Decode(serde_json::Error),
    /// The realtime stream failed.
    Realtime(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Response(e) => write!(f, "{} ({})", e.message, e.status),
            Error::Http(e) => write!(f, "request failed: {e}"),
            Error::Decode(e) => write!(f, "unexpected response: {e}"),
            Error::Realtime(e) => write!(f, "realtime: {e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<reqwest::Error> for Error {
    fn from(e: reqwest::Error) -> Error {
        Error::Http(e)
    }
}

impl Error {
    /// The HTTP status of an error response (0 for other errors).
    pub fn status(&self) -> u16 {
        match self {
            Error::Response(e) => e.status,
            _ => 0,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// A page of records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListResult<T> {
    pub page: i64,
    pub per_page: i64,
    pub total_items: i64,
    pub total_pages: i64,
    pub items: Vec<T>,
}

/// The list parameters of `GET /api/collections/{c}/records`.
#[derive(Clone, Debug, Default)]
pub struct ListOptions {
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    /// Sort keys, comma-separated, `-` for descending, or `@random`.
    pub sort: Option<String>,
    /// A filter expression, e.g. `published = true && views > 10`.
    pub filter: Option<String>,
    /// Relations to expand, comma-separated.
    pub expand: Option<String>,
    /// The keys to return, comma-separated.
    pub fields: Option<String>,
    /// Full-text search over the collection's searchable fields (Basalt).
    pub search: Option<String>,
    /// Skips counting: total_items and total_pages are -1.
    pub skip_total: bool,
}

impl ListOptions {
    fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if let Some(p) = self.page {
            q.push(("page", p.to_string()));
        }
        if let Some(p) = self.per_page {
            q.push(("perPage", p.to_string()));
        }
        let strings = [
            ("sort", &self.sort),
            ("filter", &self.filter),
            ("expand", &self.expand),
            ("fields", &self.fields),
            ("search", &self.search),
        ];
        for (key, value) in strings {
            if let Some(v) = value.as_ref().filter(|v| !v.is_empty()) {
                q.push((key, v.clone()));
            }
        }
        if self.skip_total {
            q.push(("skipTotal", "1".to_owned()));
        }
        q
    }
}

/// `expand` and `fields` of single-record calls.
#[derive(Clone, Debug, Default)]
pub struct ViewOptions {
    pub expand: Option<String>,
    pub fields: Option<String>,
}

impl ViewOptions {
    fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if let Some(e) = self.expand.as_ref().filter(|v| !v.is_empty()) {
            q.push(("expand", e.clone()));
        }
        if let Some(f) = self.fields.as_ref().filter(|v| !v.is_empty()) {
            q.push(("fields", f.clone()));
        }
        q
    }
}

/// A file to upload in a create or update.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FileUpload {
    pub name: String,
    pub bytes: Vec<u8>,
    /// The MIME type sent with the part (the server detects the real one).
    pub mime: Option<String>,
}

impl FileUpload {
    pub fn new(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> FileUpload {
        FileUpload {
            name: name.into(),
            bytes: bytes.into(),
            mime: None,
        }
    }
}

/// A create or update body: JSON values plus files (sent as multipart when present).
pub trait Payload {
    fn json(&self) -> Value;
    /// `(part name, file)` pairs; the part name may carry a modifier (`files+`).
    fn files(&self) -> Vec<(String, FileUpload)>;
}

/// `{token, record}` of a successful authentication.
#[derive(Clone, Debug, Deserialize)]
pub struct AuthResult<R> {
    pub token: String,
    pub record: R,
    #[serde(default)]
    pub meta: Option<Value>,
}

/// A realtime event of one record.
#[derive(Clone, Debug, Deserialize)]
pub struct RecordEvent<R> {
    pub action: String,
    pub record: R,
}

/// Deserializes `""` (an unset single select) as `None`.
pub fn empty_as_none<'de, D, T>(d: D) -> std::result::Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let v = Value::deserialize(d)?;
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.is_empty() => Ok(None),
        v => T::deserialize(v)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

/// Deserializes `null` as the type's default.
pub fn null_as_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// The transport: base URL, the auth token, JSON and multipart requests.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base_url: String,
    token: Arc<RwLock<Option<String>>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url)
            .finish()
    }
}

impl Client {
    pub fn new(base_url: &str) -> Client {
        Client::with_http(base_url, reqwest::Client::new())
    }

    /// A client over a configured reqwest client (timeouts, proxies, TLS roots).
    pub fn with_http(base_url: &str, http: reqwest::Client) -> Client {
        Client {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            token: Arc::new(RwLock::new(None)),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The stored auth token, if any.
    pub fn token(&self) -> Option<String> {
        self.token.read().map(|t| t.clone()).unwrap_or(None)
    }

    /// Stores (or with `None` clears) the auth token sent with every request.
    pub fn set_token(&self, token: Option<String>) {
        if let Ok(mut t) = self.token.write() {
            *t = token;
        }
    }

    pub(crate) fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base_url));
        if let Some(t) = self.token() {
            req = req.header("Authorization", t);
        }
        req
    }

    /// Sends `req`; the decoded JSON answer (`null` for 204), or the error envelope.
    pub async fn send<T: DeserializeOwned>(&self, req: RequestBuilder) -> Result<T> {
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await?;
        if status >= 400 {
            let mut env: ClientResponseError =
                serde_json::from_slice(&bytes).unwrap_or_else(|_| ClientResponseError {
                    message: String::from_utf8_lossy(&bytes).into_owned(),
                    ..ClientResponseError::default()
                });
            env.status = status;
            return Err(Error::Response(env));
        }
        let body: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
        serde_json::from_slice(body).map_err(Error::Decode)
    }

    /// A request with a JSON or multipart body.
    pub fn with_payload(
        &self,
        method: Method,
        path: &str,
        body: &dyn Payload,
    ) -> Result<RequestBuilder> {
        let req = self.request(method, path);
        let files = body.files();
        if files.is_empty() {
            return Ok(req.json(&body.json()));
        }
        let mut form =
            reqwest::multipart::Form::new().text("@jsonPayload", body.json().to_string());
        for (key, f) in files {
            let mut part = reqwest::multipart::Part::bytes(f.bytes).file_name(f.name);
            if let Some(m) = f.mime {
                part = part.mime_str(&m)?;
            }
            form = form.part(key, part);
        }
        Ok(req.multipart(form))
    }

    /// `GET` `path` with `query`.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T> {
        self.send(self.request(Method::GET, path).query(query))
            .await
    }

    /// `POST` a JSON body to `path`.
    pub async fn post_json<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T> {
        self.send(self.request(Method::POST, path).json(body)).await
    }

    /// The URL of a stored file of a record.
    pub fn file_url(
        &self,
        collection: &str,
        record_id: &str,
        filename: &str,
        thumb: Option<&str>,
    ) -> String {
        let mut url = format!(
            "{}/api/files/{}/{}/{}",
            self.base_url,
            encode(collection),
            encode(record_id),
            encode(filename)
        );
        if let Some(t) = thumb {
            url.push_str("?thumb=");
            url.push_str(&encode(t));
        }
        url
    }

    /// Downloads a stored file.
    pub async fn download(
        &self,
        collection: &str,
        record_id: &str,
        filename: &str,
    ) -> Result<Vec<u8>> {
        let url = self.file_url(collection, record_id, filename, None);
        let mut req = self.http.get(url);
        if let Some(t) = self.token() {
            req = req.header("Authorization", t);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        if status >= 400 {
            return Err(Error::Response(ClientResponseError {
                status,
                message: format!("file download failed with status {status}"),
                ..ClientResponseError::default()
            }));
        }
        Ok(resp.bytes().await?.to_vec())
    }

    /// A short-lived token for protected files.
    pub async fn file_token(&self) -> Result<String> {
        let out: Value = self
            .send(self.request(Method::POST, "/api/files/token"))
            .await?;
        Ok(out["token"].as_str().unwrap_or_default().to_owned())
    }

    /// Opens a realtime stream subscribed to the raw subscription strings `topics`.
    pub async fn subscribe_raw(&self, topics: Vec<String>) -> Result<RawSubscription> {
        RawSubscription::open(self.clone(), topics).await
    }
}

/// Percent-encodes one path segment or query value.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The record API of one collection: R read shape, C create shape, U update shape.
pub struct RecordService<R, C, U> {
    client: Client,
    collection: &'static str,
    shapes: PhantomData<fn() -> (R, C, U)>,
}

impl<R, C, U> Clone for RecordService<R, C, U> {
    fn clone(&self) -> Self {
        RecordService {
            client: self.client.clone(),
            collection: self.collection,
            shapes: PhantomData,
        }
    }
}

impl<R: DeserializeOwned, C: Payload, U: Payload> RecordService<R, C, U> {
    pub fn new(client: Client, collection: &'static str) -> Self {
        RecordService {
            client,
            collection,
            shapes: PhantomData,
        }
    }

    pub fn collection_name(&self) -> &'static str {
        self.collection
    }

    fn path(&self, id: Option<&str>) -> String {
        let base = format!("/api/collections/{}/records", encode(self.collection));
        match id {
            Some(id) => format!("{base}/{}", encode(id)),
            None => base,
        }
    }

    /// One page (`page` and `per_page` default to 1 and 30).
    pub async fn get_list(&self, options: &ListOptions) -> Result<ListResult<R>> {
        self.client.get(&self.path(None), &options.query()).await
    }

    /// Every matching record, 500 per request.
    pub async fn get_full_list(&self, options: &ListOptions) -> Result<Vec<R>> {
        let mut out = Vec::new();
        for page in 1.. {
            let opts = ListOptions {
                page: Some(page),
                per_page: Some(500),
                skip_total: true,
                ..options.clone()
            };
            let res = self.get_list(&opts).await?;
            let n = res.items.len();
            out.extend(res.items);
            if n < 500 {
                break;
            }
        }
        Ok(out)
    }

    /// The first record matching `filter`; an error with status 404 when none does.
    pub async fn get_first(&self, filter: &str, options: &ListOptions) -> Result<R> {
        let opts = ListOptions {
            filter: Some(filter.to_owned()),
            page: Some(1),
            per_page: Some(1),
            skip_total: true,
            ..options.clone()
        };
        let res = self.get_list(&opts).await?;
        res.items.into_iter().next().ok_or_else(|| {
            Error::Response(ClientResponseError {
                status: 404,
                message: "The requested resource wasn't found.".to_owned(),
                ..ClientResponseError::default()
            })
        })
    }

    pub async fn get_one(&self, id: &str, options: &ViewOptions) -> Result<R> {
        self.client
            .get(&self.path(Some(id)), &options.query())
            .await
    }

    /// Creates a record; files are uploaded as multipart.
    pub async fn create(&self, body: &C) -> Result<R> {
        let req = self
            .client
            .with_payload(Method::POST, &self.path(None), body)?;
        self.client.send(req).await
    }

    pub async fn update(&self, id: &str, body: &U) -> Result<R> {
        let req = self
            .client
            .with_payload(Method::PATCH, &self.path(Some(id)), body)?;
        self.client.send(req).await
    }

    pub async fn delete(&self, id: &str) -> Result<()> {
        let req = self.client.request(Method::DELETE, &self.path(Some(id)));
        let _: Value = self.client.send(req).await?;
        Ok(())
    }

    /// Subscribes to `"*"` (every record) or one record id, with an optional filter;
    /// returns once the server accepted the subscription.
    pub async fn subscribe(&self, topic: &str, filter: Option<&str>) -> Result<Subscription<R>> {
        let mut name = format!("{}/{topic}", self.collection);
        if let Some(f) = filter {
            let options = serde_json::json!({"query": {"filter": f}, "headers": {}});
            name.push_str("?options=");
            name.push_str(&encode(&options.to_string()));
        }
        let raw = self.client.subscribe_raw(vec![name]).await?;
        Ok(Subscription::new(raw))
    }

    /// The URL of one of this collection's files.
    pub fn file_url(&self, record_id: &str, filename: &str) -> String {
        self.client
            .file_url(self.collection, record_id, filename, None)
    }

    fn auth_path(&self, action: &str) -> String {
        format!("/api/collections/{}/{action}", encode(self.collection))
    }

    async fn authenticate(&self, action: &str, body: Option<Value>) -> Result<AuthResult<R>> {
        let mut req = self.client.request(Method::POST, &self.auth_path(action));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let out: AuthResult<R> = self.client.send(req).await?;
        self.client.set_token(Some(out.token.clone()));
        Ok(out)
    }

    async fn post_action(&self, action: &str, body: Value) -> Result<()> {
        let _: Value = self
            .client
            .post_json(&self.auth_path(action), &body)
            .await?;
        Ok(())
    }
}

/// The auth endpoints of an auth collection (`AuthService` wraps a RecordService).
pub struct AuthService<R, C, U>(pub RecordService<R, C, U>);

impl<R, C, U> Clone for AuthService<R, C, U> {
    fn clone(&self) -> Self {
        AuthService(self.0.clone())
    }
}

impl<R, C, U> std::ops::Deref for AuthService<R, C, U> {
    type Target = RecordService<R, C, U>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<R: DeserializeOwned, C: Payload, U: Payload> AuthService<R, C, U> {
    /// Signs in with an identity (e.g. the email) and a password; stores the token.
    pub async fn auth_with_password(
        &self,
        identity: &str,
        password: &str,
    ) -> Result<AuthResult<R>> {
        let body = serde_json::json!({"identity": identity, "password": password});
        self.0.authenticate("auth-with-password", Some(body)).await
    }

    /// Exchanges the stored token for a fresh one.
    pub async fn auth_refresh(&self) -> Result<AuthResult<R>> {
        self.0.authenticate("auth-refresh", None).await
    }

    /// Signs in with a one-time password sent by `request_otp`.
    pub async fn auth_with_otp(&self, otp_id: &str, password: &str) -> Result<AuthResult<R>> {
        let body = serde_json::json!({"otpId": otp_id, "password": password});
        self.0.authenticate("auth-with-otp", Some(body)).await
    }

    /// The auth methods the collection offers.
    pub async fn auth_methods(&self) -> Result<Value> {
        self.0
            .client
            .get(&self.0.auth_path("auth-methods"), &[])
            .await
    }

    pub async fn request_verification(&self, email: &str) -> Result<()> {
        self.0
            .post_action("request-verification", serde_json::json!({"email": email}))
            .await
    }

    pub async fn confirm_verification(&self, token: &str) -> Result<()> {
        self.0
            .post_action("confirm-verification", serde_json::json!({"token": token}))
            .await
    }

    pub async fn request_password_reset(&self, email: &str) -> Result<()> {
        self.0
            .post_action(
                "request-password-reset",
                serde_json::json!({"email": email}),
            )
            .await
    }

    pub async fn confirm_password_reset(
        &self,
        token: &str,
        password: &str,
        password_confirm: &str,
    ) -> Result<()> {
        let body = serde_json::json!({"token": token, "password": password, "passwordConfirm": password_confirm});
        self.0.post_action("confirm-password-reset", body).await
    }

    pub async fn request_email_change(&self, new_email: &str) -> Result<()> {
        self.0
            .post_action(
                "request-email-change",
                serde_json::json!({"newEmail": new_email}),
            )
            .await
    }

    pub async fn confirm_email_change(&self, token: &str, password: &str) -> Result<()> {
        let body = serde_json::json!({"token": token, "password": password});
        self.0.post_action("confirm-email-change", body).await
    }

    /// Sends a one-time password; returns the `otpId` for `auth_with_otp`.
    pub async fn request_otp(&self, email: &str) -> Result<String> {
        let out: Value = self
            .0
            .client
            .post_json(
                &self.0.auth_path("request-otp"),
                &serde_json::json!({"email": email}),
            )
            .await?;
        Ok(out["otpId"].as_str().unwrap_or_default().to_owned())
    }
}

/// A transactional batch (`POST /api/batch`): all of its writes commit, or none.
#[derive(Clone, Debug)]
pub struct Batch {
    client: Client,
    requests: Vec<Value>,
    files: Vec<(String, FileUpload)>,
}

/// One answer of a batch.
#[derive(Clone, Debug, Deserialize)]
pub struct BatchResult {
    pub status: u16,
    pub body: Value,
}

impl Batch {
    pub fn new(client: Client) -> Batch {
        Batch {
            client,
            requests: Vec::new(),
            files: Vec::new(),
        }
    }

    fn push(
        &mut self,
        method: &str,
        collection: &str,
        id: Option<&str>,
        body: Option<&dyn Payload>,
    ) {
        let mut url = format!("/api/collections/{}/records", encode(collection));
        if let Some(id) = id {
            url.push('/');
            url.push_str(&encode(id));
        }
        let i = self.requests.len();
        let mut req = serde_json::json!({"method": method, "url": url});
        if let Some(b) = body {
            req["body"] = b.json();
            for (key, f) in b.files() {
                self.files.push((format!("requests.{i}.{key}"), f));
            }
        }
        self.requests.push(req);
    }

    pub fn create(&mut self, collection: &str, body: &dyn Payload) {
        self.push("POST", collection, None, Some(body));
    }

    pub fn update(&mut self, collection: &str, id: &str, body: &dyn Payload) {
        self.push("PATCH", collection, Some(id), Some(body));
    }

    /// Updates the record named by the body's `id` when it exists, creates it otherwise.
    pub fn upsert(&mut self, collection: &str, body: &dyn Payload) {
        self.push("PUT", collection, None, Some(body));
    }

    pub fn delete(&mut self, collection: &str, id: &str) {
        self.push("DELETE", collection, Some(id), None);
    }

    /// Sends the batch; one result per request, in order.
    pub async fn send(self) -> Result<Vec<BatchResult>> {
        let payload = serde_json::json!({"requests": self.requests});
        let req = self.client.request(Method::POST, "/api/batch");
        if self.files.is_empty() {
            return self.client.send(req.json(&payload)).await;
        }
        let mut form = reqwest::multipart::Form::new().text("@jsonPayload", payload.to_string());
        for (key, f) in self.files {
            form = form.part(
                key,
                reqwest::multipart::Part::bytes(f.bytes).file_name(f.name),
            );
        }
        self.client.send(req.multipart(form)).await
    }
}

/// The create and update shape of a view collection: uninhabited, so a view's
/// records can be read but not written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadOnly {}

impl Payload for ReadOnly {
    fn json(&self) -> Value {
        match *self {}
    }

    fn files(&self) -> Vec<(String, FileUpload)> {
        match *self {}
    }
}
