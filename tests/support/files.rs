//! A static file server on 127.0.0.1 for the chart repository tests: it
//! serves a folder (a Helm repository made by `helm package` and `helm repo
//! index`), optionally behind basic auth, answers `If-None-Match` with 304
//! when the file's ETag matches, can redirect paths elsewhere, and counts
//! requests and the `Authorization` headers it saw per path.
//!
//! ```ignore
//! #[path = "support/files.rs"]
//! mod files;
//! let server = files::FileServer::start(dir.path());
//! server.require_basic("user", "secret");
//! // GET {server.url}/index.yaml
//! ```
//!
//! The server runs on its own thread and runtime and stops when dropped.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};

#[derive(Default)]
struct State {
    basic: Option<String>,
    /// path prefix -> URL prefix it redirects to (302).
    redirects: Vec<(String, String)>,
    /// (path, Authorization header or "") of every request.
    log: Vec<(String, String)>,
    /// A registry's token flow: paths under `/v2/` need `Bearer <token>`;
    /// `/token` hands it out (with the basic auth of `basic` when set).
    bearer: Option<String>,
    /// Extra response headers by exact path.
    headers: Vec<(String, String, String)>,
    /// Answers 304 Not Modified so far.
    not_modified: usize,
}

pub struct FileServer {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl FileServer {
    pub fn start(root: &Path) -> FileServer {
        Self::start_with(root, None)
    }

    /// Serve over HTTPS with this PEM certificate chain and key (`url` is `https://127.0.0.1:PORT`).
    pub fn start_tls(root: &Path, cert: &Path, key: &Path) -> FileServer {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(cert).unwrap().collect::<Result<_, _>>().unwrap();
        let key = PrivateKeyDer::from_pem_file(key).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let mut server = Self::start_with(root, Some(Arc::new(cfg)));
        server.url = server.url.replacen("http://", "https://", 1);
        server
    }

    fn start_with(root: &Path, tls: Option<Arc<rustls::ServerConfig>>) -> FileServer {
        let root = root.to_path_buf();
        let state = Arc::new(Mutex::new(State::default()));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let st = state.clone();
        std::thread::Builder::new()
            .name("file-server".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(serve(root, st, tls, addr_tx, stop_rx));
            })
            .unwrap();
        let addr: SocketAddr = addr_rx.recv().expect("file server started");
        FileServer { url: format!("http://{addr}"), addr, state, stop: Some(stop_tx) }
    }

    /// Every request needs `Authorization: Basic base64(user:password)`.
    pub fn require_basic(&self, user: &str, password: &str) {
        use base64::Engine;
        let v = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.state.lock().unwrap().basic = Some(format!("Basic {v}"));
    }

    /// Answer like a registry with a token server: `/v2/...` needs `Bearer
    /// token` (401 with a `WWW-Authenticate: Bearer realm=.../token` challenge
    /// otherwise); `/token` returns it (needing the basic auth, if any).
    pub fn require_bearer(&self, token: &str) {
        self.state.lock().unwrap().bearer = Some(token.to_string());
    }

    /// Send `name: value` with the answer for `path`.
    pub fn header(&self, path: &str, name: &str, value: &str) {
        self.state.lock().unwrap().headers.push((path.into(), name.into(), value.into()));
    }

    /// Requests for paths starting with `prefix` get a 302 to `to` + the rest.
    pub fn redirect(&self, prefix: &str, to: &str) {
        self.state.lock().unwrap().redirects.push((prefix.to_string(), to.to_string()));
    }

    /// (path, Authorization header or "") of every request so far.
    pub fn log(&self) -> Vec<(String, String)> {
        self.state.lock().unwrap().log.clone()
    }

    /// How many answers were 304 Not Modified.
    pub fn not_modified(&self) -> usize {
        self.state.lock().unwrap().not_modified
    }

    /// How many requests asked for `path`.
    pub fn hits(&self, path: &str) -> usize {
        self.log().iter().filter(|(p, _)| p == path).count()
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

async fn serve(
    root: PathBuf,
    state: Arc<Mutex<State>>,
    tls: Option<Arc<rustls::ServerConfig>>,
    addr_tx: std::sync::mpsc::Sender<SocketAddr>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    addr_tx.send(listener.local_addr().unwrap()).unwrap();
    loop {
        let (stream, _) = tokio::select! {
            r = listener.accept() => match r { Ok(x) => x, Err(_) => continue },
            _ = &mut stop => return,
        };
        let (root, state, tls) = (root.clone(), state.clone(), tls.clone());
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let (root, state) = (root.clone(), state.clone());
                async move { Ok::<_, std::convert::Infallible>(answer(&root, &state, req)) }
            });
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            match tls {
                Some(cfg) => {
                    // A client that refuses the certificate ends the handshake.
                    if let Ok(stream) = tokio_rustls::TlsAcceptor::from(cfg).accept(stream).await {
                        let _ = builder.serve_connection(TokioIo::new(stream), svc).await;
                    }
                }
                None => {
                    let _ = builder.serve_connection(TokioIo::new(stream), svc).await;
                }
            }
        });
    }
}

fn status(code: StatusCode, text: &str) -> Response<Full<Bytes>> {
    Response::builder().status(code).body(Full::new(Bytes::from(text.to_string()))).unwrap()
}

fn answer(root: &Path, state: &Mutex<State>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let (basic, redirect, bearer, extra) = {
        let mut s = state.lock().unwrap();
        s.log.push((path.clone(), auth.clone()));
        let redirect = s
            .redirects
            .iter()
            .find(|(p, _)| path.starts_with(p.as_str()))
            .map(|(p, to)| format!("{to}{}", &path[p.len()..]));
        let extra: Vec<(String, String)> =
            s.headers.iter().filter(|(p, _, _)| *p == path).map(|(_, n, v)| (n.clone(), v.clone())).collect();
        (s.basic.clone(), redirect, s.bearer.clone(), extra)
    };
    if let Some(token) = bearer {
        let host = req.headers().get("host").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        if path == "/token" {
            if basic.as_ref().is_some_and(|b| *b != auth) {
                return status(StatusCode::UNAUTHORIZED, "bad credentials");
            }
            return Response::builder().body(Full::new(Bytes::from(format!("{{\"token\": \"{token}\"}}")))).unwrap();
        }
        if path.starts_with("/v2/") && auth != format!("Bearer {token}") {
            let challenge = format!("Bearer realm=\"http://{host}/token\",service=\"test-registry\"");
            return Response::builder()
                .status(StatusCode::UNAUTHORIZED)
                .header("www-authenticate", challenge)
                .body(Full::new(Bytes::from_static(b"{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}")))
                .unwrap();
        }
    }
    let basic = basic.filter(|_| !path.starts_with("/v2/") || state.lock().unwrap().bearer.is_none());
    if let Some(to) = redirect {
        return Response::builder()
            .status(StatusCode::FOUND)
            .header("location", to)
            .body(Full::new(Bytes::new()))
            .unwrap();
    }
    if let Some(expected) = basic
        && auth != expected
    {
        return Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header("www-authenticate", "Basic realm=\"charts\"")
            .body(Full::new(Bytes::from_static(b"unauthorized")))
            .unwrap();
    }
    let rel = path.trim_start_matches('/');
    if rel.split('/').any(|p| p == "..") {
        return status(StatusCode::BAD_REQUEST, "bad path");
    }
    let file = root.join(percent_decode(rel));
    let Ok(bytes) = std::fs::read(&file) else { return status(StatusCode::NOT_FOUND, "not found") };
    let etag = {
        use sha2::Digest;
        let d = sha2::Sha256::digest(&bytes);
        format!("\"{}\"", d.iter().take(8).map(|b| format!("{b:02x}")).collect::<String>())
    };
    if req.headers().get("if-none-match").and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        state.lock().unwrap().not_modified += 1;
        return Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .header("etag", etag)
            .body(Full::new(Bytes::new()))
            .unwrap();
    }
    let mut resp = Response::builder().header("etag", etag);
    for (name, value) in extra {
        resp = resp.header(name, value);
    }
    resp.body(Full::new(Bytes::from(bytes))).unwrap()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a test's requests looked like, for assertions: path -> Authorization headers seen.
pub fn by_path(log: &[(String, String)]) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (p, a) in log {
        m.entry(p.clone()).or_default().push(a.clone());
    }
    m
}
