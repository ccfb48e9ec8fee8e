//! The HTTP client behind core's `OAuthHttp` port: reqwest (rustls) on the server's
//! tokio runtime. Services call the port from the blocking pool, so each call blocks
//! that thread on the runtime; every call is bounded in time and size.

use std::time::Duration;

use basalt_core::oauth_http::{OAuthHttp, OAuthMethod, OAuthRequest, OAuthResponse};
use tokio::runtime::Handle;

/// The whole request, connect included.
const TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest provider answer read, in bytes.
const MAX_RESPONSE_BYTES: usize = 1 << 20;

pub struct ReqwestOAuthHttp {
    client: reqwest::Client,
    runtime: Handle,
}

impl ReqwestOAuthHttp {
    /// A client on `runtime`. Redirects are not followed: token and user-info
    /// endpoints answer directly, and a redirect must not carry a bearer token away.
    pub fn new(runtime: Handle) -> anyhow::Result<ReqwestOAuthHttp> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("basalt/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(ReqwestOAuthHttp { client, runtime })
    }

    async fn fetch(&self, request: OAuthRequest) -> Result<OAuthResponse, String> {
        let mut builder = match request.method {
            OAuthMethod::Get => self.client.get(&request.url),
            OAuthMethod::PostForm => self.client.post(&request.url).form(&request.form),
        };
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let mut response = builder.send().await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(format!("response larger than {MAX_RESPONSE_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(OAuthResponse { status, body })
    }
}

impl OAuthHttp for ReqwestOAuthHttp {
    fn send(&self, request: OAuthRequest) -> Result<OAuthResponse, String> {
        self.runtime.block_on(self.fetch(request))
    }
}
