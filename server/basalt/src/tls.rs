//! HTTPS: a poem acceptor that wraps the TCP acceptor in rustls (ring provider). The
//! handshake runs on the connection's own task (on its first read or write), so a slow
//! client never holds up the accept loop.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use anyhow::Context as _;
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use poem::listener::{Acceptor, TcpAcceptor};
use poem::web::{LocalAddr, RemoteAddr};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use crate::config::TlsFiles;

/// Reads the certificate chain and key; errors name the file.
pub fn server_config(files: &TlsFiles) -> anyhow::Result<Arc<ServerConfig>> {
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| anyhow::anyhow!("reading certificates from {}: {e}", files.cert.display()))?;
    if certs.is_empty() {
        anyhow::bail!("{} holds no PEM certificate", files.cert.display());
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| {
        anyhow::anyhow!("reading the private key from {}: {e}", files.key.display())
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the TLS certificate does not match its key")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A TCP acceptor whose connections speak TLS.
pub struct TlsTcpAcceptor {
    inner: TcpAcceptor,
    tls: TlsAcceptor,
}

impl TlsTcpAcceptor {
    pub fn new(inner: TcpAcceptor, config: Arc<ServerConfig>) -> TlsTcpAcceptor {
        TlsTcpAcceptor {
            inner,
            tls: TlsAcceptor::from(config),
        }
    }
}

impl Acceptor for TlsTcpAcceptor {
    type Io = Handshake;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(
        &mut self,
    ) -> io::Result<(Handshake, LocalAddr, RemoteAddr, poem::http::uri::Scheme)> {
        let (stream, local, remote, _) = self.inner.accept().await?;
        let handshake = self.tls.accept(stream);
        Ok((
            Handshake::Pending(handshake.boxed()),
            local,
            remote,
            poem::http::uri::Scheme::HTTPS,
        ))
    }
}

/// A TLS connection that finishes its handshake on first use.
pub enum Handshake {
    Pending(BoxFuture<'static, io::Result<TlsStream<TcpStream>>>),
    Ready(Box<TlsStream<TcpStream>>),
    Failed,
}

impl Handshake {
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<&mut TlsStream<TcpStream>>> {
        if let Handshake::Pending(fut) = self {
            match fut.poll_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(s)) => *self = Handshake::Ready(Box::new(s)),
                Poll::Ready(Err(e)) => {
                    *self = Handshake::Failed;
                    return Poll::Ready(Err(e));
                }
            }
        }
        match self {
            Handshake::Ready(s) => Poll::Ready(Ok(s)),
            _ => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "TLS handshake failed",
            ))),
        }
    }
}

macro_rules! ready_stream {
    ($self:ident, $cx:ident) => {
        match $self.get_mut().poll_ready($cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Ready(Ok(s)) => Pin::new(s),
        }
    };
}

impl AsyncRead for Handshake {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        ready_stream!(self, cx).poll_read(cx, buf)
    }
}

impl AsyncWrite for Handshake {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready_stream!(self, cx).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready_stream!(self, cx).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready_stream!(self, cx).poll_shutdown(cx)
    }
}
