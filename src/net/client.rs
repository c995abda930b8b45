//! The hyper client behind [`super::Request`]: TLS through rustls (system
//! roots plus the CA file), redirects followed by hand so that credentials
//! stay with their origin, bodies read up to the size cap.

use std::future::Future;
use std::sync::Arc;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::{HttpOptions, Request, Response, display_url, same_origin};
use crate::error::{Error, Result};

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// An HTTP client (async; clone it freely: clones share the connection pool).
#[derive(Clone)]
pub struct HttpClient {
    client: Client<Connector, Empty<Bytes>>,
    options: Arc<HttpOptions>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient").field("options", &self.options).finish()
    }
}

fn tls_config(options: &HttpOptions) -> Result<rustls::ClientConfig> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        // A system certificate rustls cannot use is skipped, as Go skips it.
        let _ = roots.add(cert);
    }
    if let Some(file) = &options.ca_file {
        let bytes = std::fs::read(file).map_err(|e| Error::io(file, e))?;
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(&bytes) {
            let cert = cert.map_err(|e| Error::Usage(format!("{}: not a PEM certificate: {e}", file.display())))?;
            roots.add(cert).map_err(|e| Error::Usage(format!("{}: unusable CA certificate: {e}", file.display())))?;
            added += 1;
        }
        if added == 0 {
            return Err(Error::Usage(format!("{}: no PEM certificate in the CA file", file.display())));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Usage(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The error and its causes on one line (hyper's own text is terse).
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

impl HttpClient {
    pub fn new(options: HttpOptions) -> Result<Self> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(options.timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config(&options)?)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).build(https);
        Ok(HttpClient { client, options: Arc::new(options) })
    }

    pub fn options(&self) -> &HttpOptions {
        &self.options
    }

    /// GET `req`, following redirects; any final status is returned.
    pub async fn get(&self, req: &Request) -> Result<Response> {
        let timeout = self.options.timeout;
        match tokio::time::timeout(timeout, self.get_inner(req)).await {
            Ok(r) => r,
            Err(_) => Err(Error::Http {
                url: display_url(&req.url),
                message: format!("no complete answer within {}s", timeout.as_secs_f64()),
            }),
        }
    }

    fn check_scheme(&self, url: &url::Url) -> Result<()> {
        match url.scheme() {
            "https" => Ok(()),
            "http" if self.options.plain_http => Ok(()),
            "http" => Err(Error::Http {
                url: display_url(url),
                message: "plain HTTP is refused; pass --plain-http to allow it".into(),
            }),
            other => Err(Error::Http { url: display_url(url), message: format!("unsupported scheme {other:?}") }),
        }
    }

    async fn get_inner(&self, req: &Request) -> Result<Response> {
        let mut url = req.url.clone();
        url.set_fragment(None);
        let mut redirects = 0;
        loop {
            self.check_scheme(&url)?;
            let shown = display_url(&url);
            let mut builder = http::Request::get(url.as_str()).header("user-agent", USER_AGENT);
            for (k, v) in &req.headers {
                builder = builder.header(k.as_str(), v.as_str());
            }
            // Credentials only to the origin they were given for.
            if let Some(c) = &req.credential
                && same_origin(&url, &req.url)
            {
                builder = builder.header("authorization", c.header_value());
            }
            let request = builder
                .body(Empty::<Bytes>::new())
                .map_err(|e| Error::Http { url: shown.clone(), message: format!("invalid request: {e}") })?;
            tracing::debug!("GET {shown}");
            let resp = self
                .client
                .request(request)
                .await
                .map_err(|e| Error::Http { url: shown.clone(), message: format!("request failed: {}", chain(&e)) })?;
            let status = resp.status().as_u16();
            if matches!(status, 301 | 302 | 303 | 307 | 308)
                && let Some(location) = resp.headers().get("location").and_then(|l| l.to_str().ok())
            {
                redirects += 1;
                if redirects > self.options.max_redirects {
                    return Err(Error::Http {
                        url: shown,
                        message: format!("more than {} redirects", self.options.max_redirects),
                    });
                }
                let next = url.join(location).map_err(|e| Error::Http {
                    url: shown.clone(),
                    message: format!("invalid redirect location: {e}"),
                })?;
                if !same_origin(&next, &req.url) && req.credential.is_some() {
                    tracing::debug!("redirected to {}: the credentials stay with {shown}", display_url(&next));
                }
                url = next;
                continue;
            }
            let max = self.options.max_bytes;
            let too_big =
                || Error::Http { url: shown.clone(), message: format!("the answer is larger than {max} bytes") };
            if resp
                .headers()
                .get("content-length")
                .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
                .is_some_and(|n| n > max)
            {
                return Err(too_big());
            }
            let (parts, mut body) = resp.into_parts();
            let mut out = Vec::new();
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| Error::Http {
                    url: shown.clone(),
                    message: format!("reading the answer: {}", chain(&e)),
                })?;
                if let Some(data) = frame.data_ref() {
                    if out.len() as u64 + data.len() as u64 > max {
                        return Err(too_big());
                    }
                    out.extend_from_slice(data);
                }
            }
            return Ok(Response { status, headers: parts.headers, body: out, url });
        }
    }
}

/// The `User-Agent` of every request.
const USER_AGENT: &str = concat!("kubectl-gitops/", env!("CARGO_PKG_VERSION"));

/// An [`HttpClient`] with its own runtime, for synchronous callers.
pub struct BlockingClient {
    runtime: tokio::runtime::Runtime,
    client: HttpClient,
}

impl std::fmt::Debug for BlockingClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.client.fmt(f)
    }
}

impl BlockingClient {
    pub fn new(options: HttpOptions) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Usage(format!("cannot start the network runtime: {e}")))?;
        let client = runtime.block_on(async { HttpClient::new(options) })?;
        Ok(BlockingClient { runtime, client })
    }

    pub fn client(&self) -> &HttpClient {
        &self.client
    }

    /// GET `req` (see [`HttpClient::get`]).
    pub fn get(&self, req: &Request) -> Result<Response> {
        self.block_on(self.client.get(req))
    }

    /// Run `f` to completion on this client's runtime; from inside another
    /// runtime, on a thread of its own.
    pub fn block_on<F>(&self, f: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        if tokio::runtime::Handle::try_current().is_ok() {
            std::thread::scope(|s| {
                s.spawn(|| self.runtime.block_on(f)).join().unwrap_or_else(|p| std::panic::resume_unwind(p))
            })
        } else {
            self.runtime.block_on(f)
        }
    }
}
