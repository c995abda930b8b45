//! Real git servers on 127.0.0.1 for the git source tests: `git daemon`
//! (git://) and `git http-backend` behind a tiny HTTP/1.1 CGI bridge (smart
//! HTTP, optional Basic auth, a request counter), plus a repository builder
//! driving the `git` command line.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;

/// `git` with no user or system configuration.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A ConfigMap manifest named `name`.
pub fn cm(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n")
}

/// A work repository under a temp dir, and the bare copies it publishes.
pub struct Repo {
    pub tmp: tempfile::TempDir,
    pub work: PathBuf,
    /// Directory holding served bare repositories (`<served>/<name>.git`).
    pub served: PathBuf,
}

impl Repo {
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let work = tmp.path().join("work");
        let served = tmp.path().join("served");
        std::fs::create_dir_all(&work).unwrap();
        std::fs::create_dir_all(&served).unwrap();
        git(&work, &["init", "-q", "-b", "main"]);
        Repo { tmp, work, served }
    }

    pub fn write(&self, path: &str, content: &str) {
        let p = self.work.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    pub fn symlink(&self, target: &str, link: &str) {
        let p = self.work.join(link);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, p).unwrap();
    }

    /// Commit everything; returns the new SHA.
    pub fn commit(&self, msg: &str) -> String {
        git(&self.work, &["add", "-A"]);
        git(&self.work, &["commit", "-q", "-m", msg]);
        self.sha("HEAD")
    }

    pub fn sha(&self, rev: &str) -> String {
        git(&self.work, &["rev-parse", rev])
    }

    pub fn run(&self, args: &[&str]) -> String {
        git(&self.work, args)
    }

    /// Publish (or update) `<served>/<name>.git` with every branch and tag.
    pub fn publish(&self, name: &str) -> PathBuf {
        let bare = self.served.join(format!("{name}.git"));
        if !bare.exists() {
            git(&self.served, &["init", "-q", "--bare", "-b", "main", &format!("{name}.git")]);
        }
        git(
            &self.work,
            &[
                "push",
                "-q",
                "--force",
                "--prune",
                bare.to_str().unwrap(),
                "refs/heads/*:refs/heads/*",
                "refs/tags/*:refs/tags/*",
            ],
        );
        bare
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server on port {port} did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `git daemon` serving a directory over git:// on 127.0.0.1.
pub struct GitDaemon {
    child: Child,
    pub port: u16,
}

impl GitDaemon {
    pub fn start(base: &Path) -> Self {
        let port = free_port();
        let child = Command::new("git")
            .args(["daemon", "--reuseaddr", "--export-all", "--listen=127.0.0.1"])
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", base.display()))
            .arg(base)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start git daemon");
        wait_listening(port);
        GitDaemon { child, port }
    }

    pub fn url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}.git", self.port)
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `git http-backend` behind a one-request-per-connection HTTP/1.1 server.
pub struct HttpGit {
    pub port: u16,
    requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    /// Every request line with the Authorization header it carried ("" for none).
    log: Arc<std::sync::Mutex<Vec<(String, String)>>>,
}

impl HttpGit {
    /// Serve `root`; with `auth`, every request needs that Basic user/password.
    pub fn start(root: &Path, auth: Option<(&str, &str)>) -> Self {
        Self::start_with(root, auth, None)
    }

    /// Answer every request with a 302 to the same path under `base` (e.g. `http://localhost:PORT`).
    pub fn redirecting(base: &str) -> Self {
        Self::start_with(Path::new("/nonexistent"), None, Some(base.to_string()))
    }

    fn start_with(root: &Path, auth: Option<(&str, &str)>, redirect: Option<String>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let expected = auth
            .map(|(u, p)| format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))));
        let user = auth.map(|(u, _)| u.to_string());
        let (root, counter, stopping, logged) = (root.to_path_buf(), requests.clone(), stop.clone(), log.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                counter.fetch_add(1, Ordering::SeqCst);
                let (root, expected, user) = (root.clone(), expected.clone(), user.clone());
                let (logged, redirect) = (logged.clone(), redirect.clone());
                std::thread::spawn(move || {
                    let s = Served { root: &root, expected_auth: expected.as_deref(), user: user.as_deref() };
                    let _ = serve(conn, &s, &logged, redirect.as_deref());
                });
            }
        });
        HttpGit { port, requests, stop, log }
    }

    /// The requests so far: (request line, Authorization header or "").
    pub fn log(&self) -> Vec<(String, String)> {
        self.log.lock().unwrap().clone()
    }

    /// Whether any request carried Basic credentials with this password.
    pub fn saw_password(&self, password: &str) -> bool {
        self.log().iter().any(|(_, auth)| {
            let decoded = auth
                .strip_prefix("Basic ")
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                .map(|d| String::from_utf8_lossy(&d).into_owned())
                .unwrap_or_default();
            decoded.split_once(':').is_some_and(|(_, p)| p == password)
        })
    }

    pub fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/{name}.git", self.port)
    }

    /// With credentials in the URL.
    pub fn url_with(&self, userinfo: &str, name: &str) -> String {
        format!("http://{userinfo}@127.0.0.1:{}/{name}.git", self.port)
    }

    /// How many HTTP requests were received so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for HttpGit {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

struct Served<'a> {
    root: &'a Path,
    expected_auth: Option<&'a str>,
    user: Option<&'a str>,
}

type Log = std::sync::Mutex<Vec<(String, String)>>;

fn serve(conn: TcpStream, s: &Served<'_>, log: &Log, redirect: Option<&str>) -> std::io::Result<()> {
    let (root, expected_auth, user) = (s.root, s.expected_auth, s.user);
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or("GET").to_string(), parts.next().unwrap_or("/").to_string());
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let mut body = Vec::new();
    if headers.get("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk)?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(len) = headers.get("content-length").and_then(|l| l.parse::<usize>().ok()) {
        body.resize(len, 0);
        reader.read_exact(&mut body)?;
    }
    let mut out = conn;
    log.lock().unwrap().push((line.trim().to_string(), headers.get("authorization").cloned().unwrap_or_default()));
    if let Some(base) = redirect {
        return write!(
            out,
            "HTTP/1.1 302 Found\r\nLocation: {base}{target}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
    }
    if let Some(want) = expected_auth
        && headers.get("authorization").map(String::as_str) != Some(want)
    {
        let msg = "authentication required\n";
        return write!(
            out,
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{msg}",
            msg.len()
        );
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut cmd = Command::new("git");
    cmd.arg("http-backend")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REQUEST_METHOD", &method)
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(ct) = headers.get("content-type") {
        cmd.env("CONTENT_TYPE", ct);
    }
    if let Some(p) = headers.get("git-protocol") {
        cmd.env("GIT_PROTOCOL", p);
    }
    if let Some(enc) = headers.get("content-encoding") {
        cmd.env("HTTP_CONTENT_ENCODING", enc);
    }
    if let Some(u) = user {
        cmd.env("REMOTE_USER", u);
    }
    let mut child = cmd.spawn()?;
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let mut output = Vec::new();
    child.stdout.take().expect("stdout").read_to_end(&mut output)?;
    let _ = writer.join();
    child.wait()?;
    let split = output.windows(4).position(|w| w == b"\r\n\r\n").map(|i| (i, 4));
    let split = split.or_else(|| output.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let (head, payload) = match split {
        Some((i, n)) => (String::from_utf8_lossy(&output[..i]).into_owned(), output[i + n..].to_vec()),
        None => (String::new(), output),
    };
    let mut status = "200 OK".to_string();
    let mut response_headers = String::new();
    for h in head.lines() {
        match h.split_once(':') {
            Some((k, v)) if k.eq_ignore_ascii_case("status") => status = v.trim().to_string(),
            Some(_) => {
                response_headers.push_str(h.trim_end());
                response_headers.push_str("\r\n");
            }
            None => {}
        }
    }
    write!(
        out,
        "HTTP/1.1 {status}\r\n{response_headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        payload.len()
    )?;
    out.write_all(&payload)?;
    out.flush()
}

/// The result of one run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// An isolated environment for the binary: its own HOME and cache.
pub struct Env {
    pub home: tempfile::TempDir,
    pub vars: Vec<(String, String)>,
}

impl Env {
    pub fn new() -> Self {
        let home = tempfile::tempdir().unwrap();
        Env { home, vars: Vec::new() }
    }

    pub fn cache(&self) -> PathBuf {
        self.home.path().join("cache")
    }

    pub fn set(mut self, k: &str, v: &str) -> Self {
        self.vars.push((k.into(), v.into()));
        self
    }

    pub fn run(&self, dir: &Path, args: &[&str]) -> Run {
        let out = self.command(dir, args).output().expect("run kubectl-gitops");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// As [`Env::run`], but a watchdog kills the run and fails the test after `limit`.
    pub fn run_within(&self, limit: Duration, dir: &Path, args: &[&str]) -> Run {
        let out_dir = tempfile::tempdir().unwrap();
        let (out_path, err_path) = (out_dir.path().join("out"), out_dir.path().join("err"));
        let mut child = self
            .command(dir, args)
            .stdout(std::fs::File::create(&out_path).unwrap())
            .stderr(std::fs::File::create(&err_path).unwrap())
            .spawn()
            .expect("run kubectl-gitops");
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{args:?} still running after {limit:?}: {}", std::fs::read_to_string(&err_path).unwrap());
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        Run {
            code: status.code().unwrap_or(-1),
            stdout: std::fs::read_to_string(&out_path).unwrap(),
            stderr: std::fs::read_to_string(&err_path).unwrap(),
        }
    }

    fn command(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubectl-gitops"));
        cmd.args(args)
            .current_dir(dir)
            .env("HOME", self.home.path())
            .env("XDG_CACHE_HOME", self.cache())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("KUBECTL_GITOPS_CACHE_DIR")
            .env_remove("KUBECTL_GITOPS_GIT_TOKEN")
            .env_remove("KUBECTL_GITOPS_GIT_USERNAME")
            .env_remove("KUBECTL_GITOPS_GIT_TOKEN_HOSTS")
            .env_remove("KUBECTL_GITOPS_GIT_MAX_BYTES")
            .env_remove("KUBECTL_GITOPS_GIT_MAX_FILES")
            .env_remove("KUBECTL_GITOPS_GIT_MAX_DEPTH")
            .env_remove("SSH_AUTH_SOCK")
            .env_remove("KUBECONFIG")
            .env_remove("RUST_LOG");
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        cmd
    }
}

/// `sshd` on 127.0.0.1 with its own host key and one authorized user key,
/// logging in as the current user (git runs `git-upload-pack` through it).
pub struct SshServer {
    child: Child,
    pub port: u16,
    pub user: String,
    /// The unencrypted private key the server accepts.
    pub user_key: PathBuf,
    /// A `known_hosts` line for this server.
    pub known_hosts_line: String,
    _dir: tempfile::TempDir,
}

impl SshServer {
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    /// On a given loopback port (22 for scp-like URLs, which cannot name a port).
    pub fn start_on(port: u16) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let keygen = |name: &str| {
            let out = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", "test", "-f"])
                .arg(d.join(name))
                .output()
                .expect("run ssh-keygen");
            assert!(out.status.success(), "ssh-keygen: {}", String::from_utf8_lossy(&out.stderr));
        };
        keygen("host_key");
        keygen("user_key");
        std::fs::copy(d.join("user_key.pub"), d.join("authorized_keys")).unwrap();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {dir}/host_key\nAuthorizedKeysFile {dir}/authorized_keys\n\
             PubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n\
             StrictModes no\nPermitRootLogin prohibit-password\nPidFile {dir}/sshd.pid\nLogLevel ERROR\n",
            dir = d.display()
        );
        std::fs::write(d.join("sshd_config"), config).unwrap();
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(d.join("sshd_config"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sshd (scripts/install-test-git.sh installs it)");
        wait_listening(port);
        let host_pub = std::fs::read_to_string(d.join("host_key.pub")).unwrap();
        let mut parts = host_pub.split_whitespace();
        let host = if port == 22 { "127.0.0.1".to_string() } else { format!("[127.0.0.1]:{port}") };
        let known_hosts_line = format!("{host} {} {}\n", parts.next().unwrap(), parts.next().unwrap());
        let user =
            String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout).unwrap().trim().to_string();
        SshServer { child, port, user, user_key: d.join("user_key"), known_hosts_line, _dir: dir }
    }

    /// `user@127.0.0.1:<absolute path>` (scp-like; the server must be on port 22).
    pub fn scp_url(&self, repo: &Path) -> String {
        format!("{}@127.0.0.1:{}", self.user, repo.display())
    }

    /// `ssh://user@127.0.0.1:port/<absolute path>`
    pub fn url(&self, repo: &Path) -> String {
        format!("ssh://{}@127.0.0.1:{}{}", self.user, self.port, repo.display())
    }
}

impl Drop for SshServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An `ssh-agent` holding one key, on its own socket.
pub struct SshAgent {
    child: Child,
    pub socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl SshAgent {
    pub fn start(key: &Path) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("agent.sock");
        let child = Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&socket)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ssh-agent");
        let deadline = Instant::now() + Duration::from_secs(20);
        while !socket.exists() {
            assert!(Instant::now() < deadline, "ssh-agent did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let out = Command::new("ssh-add").arg(key).env("SSH_AUTH_SOCK", &socket).output().expect("run ssh-add");
        assert!(out.status.success(), "ssh-add: {}", String::from_utf8_lossy(&out.stderr));
        SshAgent { child, socket, _dir: dir }
    }
}

impl Drop for SshAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
