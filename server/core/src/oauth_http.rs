//! The port through which OAuth2 logins reach identity providers: a token exchange
//! (form POST) and user-info reads (GET). Core does no IO; the binary wires an HTTP
//! client behind this trait, and tests may wire a fake.
//!
//! Calls are blocking (services run on the blocking pool) and every implementation
//! must bound them in time: a provider that does not answer must not hold a request
//! forever.

/// The HTTP method of an [`OAuthRequest`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OAuthMethod {
    Get,
    /// A POST with an `application/x-www-form-urlencoded` body made of `form`.
    PostForm,
}

/// One request to an identity provider.
#[derive(Clone, Debug)]
pub struct OAuthRequest {
    pub method: OAuthMethod,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub form: Vec<(String, String)>,
}

/// What the provider answered; any status (the caller decides what is an error).
#[derive(Clone, Debug)]
pub struct OAuthResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Sends requests to identity providers. An `Err` is a transport failure (refused,
/// timed out, TLS); its text is logged, never shown to clients.
pub trait OAuthHttp: Send + Sync {
    fn send(&self, request: OAuthRequest) -> Result<OAuthResponse, String>;
}
