//! Network I/O outside the cluster: a small HTTP client ([`HttpClient`],
//! async; [`BlockingClient`] for the synchronous pipeline) shared by the
//! Helm repository client, the OCI registry client ([`oci`]) and image
//! updates.
//!
//! Invariants: TLS is verified (the system's roots plus an optional CA
//! file); `http://` is refused unless [`HttpOptions::plain_http`] says
//! otherwise; redirects are followed here, at most
//! [`HttpOptions::max_redirects`], and a redirect to another origin
//! (scheme, host, port) drops the request's credentials; a body larger than
//! [`HttpOptions::max_bytes`] and a request slower than
//! [`HttpOptions::timeout`] fail; every error names the URL without its
//! credentials or query.
//!
//! Rendering stays synchronous: the network is its only async part, driven
//! by [`BlockingClient`]'s own runtime.

mod client;
pub mod oci;

pub use client::{BlockingClient, HttpClient};

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};

/// Default of [`HttpOptions::timeout`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// Default of [`HttpOptions::max_bytes`]: 256 MiB (a large repository's `index.yaml` is tens of MiB).
pub const DEFAULT_MAX_BYTES: u64 = 256 << 20;
/// Default of [`HttpOptions::max_redirects`] (Go's `net/http` stops after 10).
pub const DEFAULT_MAX_REDIRECTS: usize = 10;

/// How a client talks to servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpOptions {
    /// The whole request, body included.
    pub timeout: Duration,
    /// The largest body read.
    pub max_bytes: u64,
    /// PEM certificates trusted besides the system's roots.
    pub ca_file: Option<PathBuf>,
    /// Allow `http://` (helm's `--plain-http`).
    pub plain_http: bool,
    pub max_redirects: usize,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            timeout: DEFAULT_TIMEOUT,
            max_bytes: DEFAULT_MAX_BYTES,
            ca_file: None,
            plain_http: false,
            max_redirects: DEFAULT_MAX_REDIRECTS,
        }
    }
}

/// Credentials for one request; sent only to the request URL's origin.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    Basic { username: String, password: String },
    Bearer(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Basic { username, .. } => write!(f, "Basic({username}, <redacted>)"),
            Credential::Bearer(_) => f.write_str("Bearer(<redacted>)"),
        }
    }
}

impl Credential {
    /// The `Authorization` header value.
    pub fn header_value(&self) -> String {
        use base64::Engine;
        match self {
            Credential::Basic { username, password } => {
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}")))
            }
            Credential::Bearer(token) => format!("Bearer {token}"),
        }
    }

    /// The secret parts, to keep them out of messages.
    pub fn secrets(&self) -> Vec<&str> {
        match self {
            Credential::Basic { password, .. } => vec![password.as_str()],
            Credential::Bearer(t) => vec![t.as_str()],
        }
    }
}

/// A GET request.
#[derive(Debug, Clone)]
pub struct Request {
    pub url: url::Url,
    /// Extra headers (never credentials: those go in `credential`).
    pub headers: Vec<(String, String)>,
    pub credential: Option<Credential>,
}

impl Request {
    /// A GET of `url`; user and password in the URL become its credential.
    pub fn get(url: &str) -> Result<Self> {
        let mut url = parse_url(url)?;
        let credential = if url.username().is_empty() {
            None
        } else {
            let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
            let username = decode(url.username());
            let password = decode(url.password().unwrap_or_default());
            let _ = url.set_username("");
            let _ = url.set_password(None);
            Some(Credential::Basic { username, password })
        };
        Ok(Request { url, headers: Vec::new(), credential })
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn credential(mut self, credential: Option<Credential>) -> Self {
        if credential.is_some() {
            self.credential = credential;
        }
        self
    }
}

/// A response: status, headers, the whole body, and the URL it came from
/// (after redirects).
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
    pub url: url::Url,
}

impl Response {
    /// A header as text (`None` when absent or not text).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every value of a header.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect()
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The response as an error: its status and the start of its body.
    pub fn status_error(&self) -> Error {
        let text = String::from_utf8_lossy(&self.body);
        let first: String = text.lines().next().unwrap_or("").chars().take(200).collect();
        let reason = http::StatusCode::from_u16(self.status).ok().and_then(|s| s.canonical_reason()).unwrap_or("");
        let detail = if first.trim().is_empty() { String::new() } else { format!(": {}", first.trim()) };
        Error::Http { url: display_url(&self.url), message: format!("HTTP {} {reason}{detail}", self.status) }
    }

    /// `Ok(self)` for a 2xx status, else [`Response::status_error`].
    pub fn success(self) -> Result<Self> {
        if self.is_success() { Ok(self) } else { Err(self.status_error()) }
    }
}

/// Parse an absolute `http(s)` URL.
pub fn parse_url(s: &str) -> Result<url::Url> {
    let url = url::Url::parse(s.trim())
        .map_err(|e| Error::Http { url: redact_text(s), message: format!("invalid URL: {e}") })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::Http { url: display_url(&url), message: "not an http(s) URL".into() });
    }
    Ok(url)
}

/// `url` for messages: no user, password, query or fragment.
pub fn display_url(url: &url::Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

/// A URL that did not parse, for messages: anything before an `@` in its authority dropped.
fn redact_text(s: &str) -> String {
    match s.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            let path = path.split(['?', '#']).next().unwrap_or("");
            format!("{scheme}://{host}{path}")
        }
        None => s.split(['?', '#']).next().unwrap_or("").to_string(),
    }
}

/// The origin credentials are bound to: scheme, host and port.
pub fn same_origin(a: &url::Url, b: &url::Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str().map(str::to_ascii_lowercase) == b.host_str().map(str::to_ascii_lowercase)
        && a.port_or_known_default() == b.port_or_known_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_credentials_become_a_credential_and_leave_the_url() {
        let r = Request::get("https://bob:p%40ss@charts.example.com/x/index.yaml?token=abc").unwrap();
        assert_eq!(r.credential, Some(Credential::Basic { username: "bob".into(), password: "p@ss".into() }));
        assert_eq!(r.url.as_str(), "https://charts.example.com/x/index.yaml?token=abc");
        assert_eq!(display_url(&r.url), "https://charts.example.com/x/index.yaml");
        assert_eq!(redact_text("https://u:pw@h:1/p?q#f"), "https://h:1/p");
        assert!(matches!(Request::get("ftp://h/x"), Err(Error::Http { .. })));
        let e = Request::get("https://u:secret@[bad/x").unwrap_err().to_string();
        assert!(!e.contains("secret"), "{e}");
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let u = |s: &str| url::Url::parse(s).unwrap();
        assert!(same_origin(&u("https://A.example/x"), &u("https://a.example:443/y")));
        assert!(!same_origin(&u("https://a.example/x"), &u("http://a.example/x")));
        assert!(!same_origin(&u("https://a.example/x"), &u("https://a.example:8443/x")));
        assert!(!same_origin(&u("https://a.example/x"), &u("https://b.example/x")));
    }

    #[test]
    fn credentials_print_redacted() {
        let c = Credential::Basic { username: "u".into(), password: "hunter2".into() };
        assert!(!format!("{c:?}").contains("hunter2"));
        assert_eq!(c.header_value(), "Basic dTpodW50ZXIy");
    }
}
