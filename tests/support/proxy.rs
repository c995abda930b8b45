//! A fault and latency proxy in front of the test API server, on
//! 127.0.0.1, for tests and benchmarks: it terminates TLS with the
//! cluster's own serving certificate (so clients trust it as they trust the
//! API server), forwards each HTTP request to the real server, and on the
//! way adds latency per round trip, limits bandwidth, and injects faults
//! chosen by rules: an HTTP status (429 with `Retry-After`, 500, 503), a
//! reset connection, or a stall.
//!
//! ```ignore
//! #[path = "support/proxy.rs"]
//! mod proxy;
//! let p = proxy::Proxy::start(cluster::shared());
//! p.set_latency(Duration::from_millis(10));
//! p.add_rule(proxy::Rule::new(proxy::Fault::Status { code: 429, retry_after: Some(1) }).method("PATCH").times(3));
//! // run kubectl-gitops with `--kubeconfig p.kubeconfig`
//! ```
//!
//! The proxy runs on its own thread and tokio runtime and stops when dropped.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};

/// What a rule does to a request it matches.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status (a Kubernetes `Status` body), without
    /// forwarding; `retry_after` sets the header and `details.retryAfterSeconds`.
    Status { code: u16, retry_after: Option<u32> },
    /// Drop the connection (HTTP/2: reset the stream) without an answer.
    Reset,
    /// Hold the request this long, then forward it.
    Stall(Duration),
}

/// A fault for the requests it matches: by method and path substring,
/// skipping the first `after` matches, at most `times` times.
#[derive(Debug, Clone)]
pub struct Rule {
    pub fault: Fault,
    pub method: Option<String>,
    pub path_contains: Option<String>,
    pub after: u64,
    pub times: Option<u64>,
    seen: u64,
    fired: u64,
}

impl Rule {
    pub fn new(fault: Fault) -> Rule {
        Rule { fault, method: None, path_contains: None, after: 0, times: None, seen: 0, fired: 0 }
    }
    pub fn method(mut self, m: &str) -> Rule {
        self.method = Some(m.to_string());
        self
    }
    pub fn path(mut self, p: &str) -> Rule {
        self.path_contains = Some(p.to_string());
        self
    }
    pub fn after(mut self, n: u64) -> Rule {
        self.after = n;
        self
    }
    pub fn times(mut self, n: u64) -> Rule {
        self.times = Some(n);
        self
    }

    fn matches(&mut self, method: &str, path: &str) -> Option<Fault> {
        if self.method.as_deref().is_some_and(|m| m != method)
            || self.path_contains.as_deref().is_some_and(|p| !path.contains(p))
        {
            return None;
        }
        self.seen += 1;
        if self.seen <= self.after || self.times.is_some_and(|t| self.fired >= t) {
            return None;
        }
        self.fired += 1;
        Some(self.fault.clone())
    }
}

#[derive(Default)]
struct Settings {
    latency: Duration,
    /// Bytes per second of response bodies; 0: unlimited.
    bandwidth: u64,
    rules: Vec<Rule>,
}

#[derive(Default)]
struct State {
    settings: Mutex<Settings>,
    requests: AtomicU64,
    faults: AtomicU64,
}

/// A running proxy.
pub struct Proxy {
    /// `https://127.0.0.1:PORT`.
    pub url: String,
    /// A copy of the cluster's kubeconfig whose server is the proxy.
    pub kubeconfig: PathBuf,
    state: Arc<State>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl Proxy {
    /// A proxy in front of the cluster whose data dir is `cluster_dir`,
    /// kubeconfig `kubeconfig` and server `upstream`.
    pub fn start_for(cluster_dir: &Path, kubeconfig: &Path, upstream: &str) -> Proxy {
        let pki = cluster_dir.join("pki");
        let state = Arc::new(State::default());
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let upstream = upstream.to_string();
        let st = state.clone();
        std::thread::Builder::new()
            .name("fault-proxy".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
                rt.block_on(serve(pki, upstream, st, addr_tx, stop_rx));
            })
            .unwrap();
        let addr: SocketAddr = addr_rx.recv().expect("proxy started");
        let url = format!("https://{addr}");
        let dir = tempfile::tempdir().unwrap();
        let text = std::fs::read_to_string(kubeconfig).unwrap();
        let server_line = text.lines().find(|l| l.trim_start().starts_with("server:")).expect("server line");
        let copy = dir.path().join("kubeconfig");
        std::fs::write(&copy, text.replace(server_line, &format!("    server: {url}"))).unwrap();
        Proxy { url, kubeconfig: copy, state, stop: Some(stop_tx), _dir: dir }
    }

    /// Added delay per request (one round trip).
    pub fn set_latency(&self, d: Duration) {
        self.state.settings.lock().unwrap().latency = d;
    }

    /// Response bodies at most this many bytes per second (0: unlimited).
    pub fn set_bandwidth(&self, bytes_per_second: u64) {
        self.state.settings.lock().unwrap().bandwidth = bytes_per_second;
    }

    pub fn add_rule(&self, rule: Rule) {
        self.state.settings.lock().unwrap().rules.push(rule);
    }

    /// Remove every rule.
    pub fn clear_rules(&self) {
        self.state.settings.lock().unwrap().rules.clear();
    }

    /// Requests seen, faults injected.
    pub fn counts(&self) -> (u64, u64) {
        (self.state.requests.load(Ordering::SeqCst), self.state.faults.load(Ordering::SeqCst))
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

fn tls_config(pki: &Path) -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(pki.join("server.crt")).unwrap().collect::<Result<_, _>>().unwrap();
    let key = PrivateKeyDer::from_pem_file(pki.join("server.key")).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(cfg)
}

type Upstream = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

fn upstream_client(pki: &Path) -> Upstream {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(pki.join("ca.crt")).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let https =
        hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_only().enable_all_versions().build();
    Client::builder(TokioExecutor::new()).build(https)
}

async fn serve(
    pki: PathBuf,
    upstream: String,
    state: Arc<State>,
    addr_tx: std::sync::mpsc::Sender<SocketAddr>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    addr_tx.send(listener.local_addr().unwrap()).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(tls_config(&pki));
    let client = upstream_client(&pki);
    loop {
        let (tcp, _) = tokio::select! {
            r = listener.accept() => match r { Ok(x) => x, Err(_) => continue },
            _ = &mut stop => return,
        };
        let _ = tcp.set_nodelay(true);
        let (acceptor, client, state, upstream) = (acceptor.clone(), client.clone(), state.clone(), upstream.clone());
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else { return };
            let service = hyper::service::service_fn(move |req| {
                let (client, state, upstream) = (client.clone(), state.clone(), upstream.clone());
                async move { handle(req, &client, &state, &upstream).await }
            });
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

#[derive(Debug)]
struct ResetConnection;

impl std::fmt::Display for ResetConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("injected reset")
    }
}

impl std::error::Error for ResetConnection {}

async fn handle(
    req: Request<Incoming>,
    client: &Upstream,
    state: &State,
    upstream: &str,
) -> Result<Response<Full<Bytes>>, ResetConnection> {
    state.requests.fetch_add(1, Ordering::SeqCst);
    let (method, path) = (req.method().as_str().to_string(), req.uri().path().to_string());
    let (latency, bandwidth, fault) = {
        let mut s = state.settings.lock().unwrap();
        let fault = s.rules.iter_mut().find_map(|r| r.matches(&method, &path));
        (s.latency, s.bandwidth, fault)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if fault.is_some() {
        state.faults.fetch_add(1, Ordering::SeqCst);
    }
    match fault {
        Some(Fault::Status { code, retry_after }) => return Ok(status(code, retry_after)),
        Some(Fault::Reset) => return Err(ResetConnection),
        Some(Fault::Stall(d)) => tokio::time::sleep(d).await,
        None => {}
    }
    let (parts, body) = req.into_parts();
    let Ok(body) = body.collect().await.map(|b| b.to_bytes()) else { return Err(ResetConnection) };
    let uri: hyper::Uri =
        format!("{upstream}{}", parts.uri.path_and_query().map_or("/", |p| p.as_str())).parse().unwrap();
    let mut out = Request::builder().method(parts.method).uri(uri);
    for (k, v) in &parts.headers {
        if !matches!(k.as_str(), "host" | "connection" | "transfer-encoding" | "keep-alive" | "upgrade") {
            out = out.header(k, v);
        }
    }
    let out = out.body(Full::new(body)).unwrap();
    let Ok(resp) = client.request(out).await else { return Err(ResetConnection) };
    let (parts, body) = resp.into_parts();
    let Ok(body) = body.collect().await.map(|b| b.to_bytes()) else { return Err(ResetConnection) };
    if bandwidth > 0 {
        tokio::time::sleep(Duration::from_secs_f64(body.len() as f64 / bandwidth as f64)).await;
    }
    let mut resp = Response::builder().status(parts.status);
    for (k, v) in &parts.headers {
        if !matches!(k.as_str(), "connection" | "transfer-encoding" | "keep-alive" | "content-length") {
            resp = resp.header(k, v);
        }
    }
    Ok(resp.body(Full::new(body)).unwrap())
}

fn status(code: u16, retry_after: Option<u32>) -> Response<Full<Bytes>> {
    let reason = match code {
        429 => "TooManyRequests",
        503 => "ServiceUnavailable",
        _ => "InternalError",
    };
    let mut details = serde_json::Map::new();
    if let Some(s) = retry_after {
        details.insert("retryAfterSeconds".into(), s.into());
    }
    let body = serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": format!("injected by the test proxy: {code}"), "reason": reason,
        "details": details, "code": code,
    });
    let mut b =
        Response::builder().status(StatusCode::from_u16(code).unwrap()).header("content-type", "application/json");
    if let Some(s) = retry_after {
        b = b.header("retry-after", s.to_string());
    }
    b.body(Full::new(Bytes::from(body.to_string()))).unwrap()
}
