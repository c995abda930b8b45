//! The project's test cluster: etcd, kube-apiserver (1.20, built by
//! `scripts/install-test-cluster.sh`) and kube-controller-manager on free
//! 127.0.0.1 ports, with a temporary data dir, token and client-certificate
//! auth, RBAC and service-account keys. Nothing listens on any other address.
//!
//! Use it from a test (one server per test binary, shared by its tests;
//! every test works in its own namespaces):
//!
//! ```ignore
//! #[path = "support/cluster.rs"]
//! mod cluster;
//! let c = cluster::shared();          // started on first use
//! c.create_namespace("my-test-a");
//! c.kubectl(&["apply", "--server-side", "-f", "x.yaml"]);
//! // kubectl-gitops: pass `--kubeconfig c.kubeconfig` (contexts `admin`,
//! // `admin-cert` and `restricted`)
//! ```
//!
//! Teardown: the processes are spawned from a thread that lives as long as
//! the test process, with `PR_SET_PDEATHSIG(SIGKILL)`, so the kernel kills
//! them whenever the process ends (normal exit, panic, abort, SIGKILL). On a
//! normal exit an `atexit` hook also stops them and removes the data dir.
//! `examples/test-cluster.rs` runs the same harness for humans and benchmarks.
#![allow(dead_code)]

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

/// Token of the admin user (group `system:masters`).
pub const ADMIN_TOKEN: &str = "admin-token-kubectl-gitops-test";
/// Token of the restricted user `restricted` (no groups, no bindings: tests grant what they need).
pub const RESTRICTED_TOKEN: &str = "restricted-token-kubectl-gitops-test";
/// Name of the restricted user, for RoleBindings.
pub const RESTRICTED_USER: &str = "restricted";

/// A running test cluster.
pub struct TestCluster {
    /// Data directory (etcd data, certificates, keys, logs, kubeconfig).
    pub dir: PathBuf,
    /// Kubeconfig with contexts `admin` (current), `admin-cert` and `restricted`.
    pub kubeconfig: PathBuf,
    /// `https://127.0.0.1:PORT`.
    pub server: String,
    children: Mutex<Vec<Child>>,
    remove_dir: bool,
    /// The API server's program and arguments, to start it again ([`TestCluster::restart_apiserver`]).
    api_command: Mutex<Option<(PathBuf, Vec<String>)>>,
}

static SHARED: OnceLock<TestCluster> = OnceLock::new();

/// The test binary's cluster, started on first use.
pub fn shared() -> &'static TestCluster {
    SHARED.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("kubectl-gitops-cluster-{}", std::process::id()));
        // KUBECTL_GITOPS_TEST_KEEP=1 keeps the data dir and logs for debugging.
        let keep = std::env::var_os("KUBECTL_GITOPS_TEST_KEEP").is_some();
        let c = start_owned(&dir, !keep).unwrap_or_else(|e| panic!("test cluster: {e}"));
        // SAFETY: registering a plain `extern "C"` function.
        unsafe { libc::atexit(stop_shared) };
        c
    })
}

extern "C" fn stop_shared() {
    if let Some(c) = SHARED.get() {
        c.stop();
    }
}

/// Directory holding `kube-apiserver` and `kube-controller-manager`.
pub fn bin_dir() -> PathBuf {
    let cache = std::env::var_os("KUBECTL_GITOPS_TEST_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/kubectl-gitops-test"));
    cache.join("bin")
}

/// Start a cluster whose data lives in `dir` (created; removed by `stop` when `remove_dir`).
/// The processes are children of a thread that never ends, so they live
/// exactly as long as this process.
pub fn start_owned(dir: &Path, remove_dir: bool) -> Result<TestCluster, String> {
    let dir = dir.to_path_buf();
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("test-cluster".into())
        .spawn(move || {
            let r = start_in(&dir, remove_dir);
            let ok = r.is_ok();
            let _ = tx.send(r);
            if ok {
                // PR_SET_PDEATHSIG fires when the spawning *thread* exits: keep it.
                loop {
                    std::thread::park();
                }
            }
        })
        .map_err(|e| e.to_string())?;
    rx.recv().map_err(|e| e.to_string())?
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free 127.0.0.1 port").port()
}

fn spawn(cmd: &mut Command, log: &Path) -> Result<Child, String> {
    let log_file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err_file = log_file.try_clone().map_err(|e| e.to_string())?;
    cmd.stdin(Stdio::null()).stdout(log_file).stderr(err_file);
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.spawn().map_err(|e| format!("{:?}: {e}", cmd.get_program()))
}

fn sh(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{:?}: {e}", cmd.get_program()))?;
    if !out.status.success() {
        return Err(format!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(())
}

fn openssl(dir: &Path, args: &[&str]) -> Result<(), String> {
    sh(Command::new("openssl").args(args).current_dir(dir))
}

/// Certificates and keys: a CA, the serving certificate (127.0.0.1), an admin
/// client certificate and the service-account key pair.
fn make_pki(pki: &Path) -> Result<(), String> {
    std::fs::create_dir_all(pki).map_err(|e| e.to_string())?;
    let o = |a: &[&str]| openssl(pki, a);
    o(&["genrsa", "-out", "ca.key", "2048"])?;
    o(&[
        "req",
        "-x509",
        "-new",
        "-key",
        "ca.key",
        "-days",
        "30",
        "-subj",
        "/CN=kubectl-gitops-test-ca",
        "-out",
        "ca.crt",
    ])?;
    o(&["genrsa", "-out", "server.key", "2048"])?;
    o(&["req", "-new", "-key", "server.key", "-subj", "/CN=kube-apiserver", "-out", "server.csr"])?;
    std::fs::write(
        pki.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\nbasicConstraints=CA:FALSE\n",
    )
    .map_err(|e| e.to_string())?;
    o(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "30",
        "-extfile",
        "server.ext",
        "-out",
        "server.crt",
    ])?;
    o(&["genrsa", "-out", "client.key", "2048"])?;
    o(&["req", "-new", "-key", "client.key", "-subj", "/O=system:masters/CN=cert-admin", "-out", "client.csr"])?;
    std::fs::write(
        pki.join("client.ext"),
        "extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyEncipherment\nbasicConstraints=CA:FALSE\n",
    )
    .map_err(|e| e.to_string())?;
    o(&[
        "x509",
        "-req",
        "-in",
        "client.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "30",
        "-extfile",
        "client.ext",
        "-out",
        "client.crt",
    ])?;
    o(&["genrsa", "-out", "sa.key", "2048"])?;
    o(&["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"])?;
    Ok(())
}

fn kubeconfig_text(server: &str, pki: &Path) -> String {
    let p = |f: &str| pki.join(f).display().to_string();
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: {server}
    certificate-authority: {ca}
users:
- name: admin
  user:
    token: {ADMIN_TOKEN}
- name: admin-cert
  user:
    client-certificate: {cert}
    client-key: {key}
- name: restricted
  user:
    token: {RESTRICTED_TOKEN}
contexts:
- name: admin
  context: {{cluster: test, user: admin}}
- name: admin-cert
  context: {{cluster: test, user: admin-cert}}
- name: restricted
  context: {{cluster: test, user: restricted}}
current-context: admin
",
        ca = p("ca.crt"),
        cert = p("client.crt"),
        key = p("client.key"),
    )
}

fn start_in(dir: &Path, remove_dir: bool) -> Result<TestCluster, String> {
    let bin = bin_dir();
    let apiserver = bin.join("kube-apiserver");
    let cm = bin.join("kube-controller-manager");
    if !apiserver.is_file() || !cm.is_file() {
        return Err(format!("{} missing: run scripts/install-test-cluster.sh", apiserver.display()));
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let pki = dir.join("pki");
    make_pki(&pki)?;
    std::fs::write(
        dir.join("tokens.csv"),
        format!("{ADMIN_TOKEN},admin,admin,\"system:masters\"\n{RESTRICTED_TOKEN},{RESTRICTED_USER},restricted\n"),
    )
    .map_err(|e| e.to_string())?;

    let mut cluster = TestCluster {
        dir: dir.to_path_buf(),
        kubeconfig: dir.join("kubeconfig"),
        server: String::new(),
        children: Mutex::new(Vec::new()),
        remove_dir,
        api_command: Mutex::new(None),
    };
    // Ports are picked free, then bound by the child: retry when another
    // process took one in between.
    let mut last = String::new();
    for _attempt in 0..3 {
        match cluster.launch(&apiserver, &cm, &pki) {
            Ok(()) => return Ok(cluster),
            Err(e) => {
                cluster.kill_children();
                last = e;
            }
        }
    }
    cluster.stop();
    Err(last)
}

impl TestCluster {
    fn launch(&mut self, apiserver: &Path, cm: &Path, pki: &Path) -> Result<(), String> {
        let dir = self.dir.clone();
        let (client, peer, secure) = (free_port(), free_port(), free_port());
        let etcd_dir = dir.join("etcd");
        let _ = std::fs::remove_dir_all(&etcd_dir);
        let etcd = spawn(
            Command::new("etcd")
                .arg("--name=test")
                .arg(format!("--data-dir={}", etcd_dir.display()))
                .arg(format!("--listen-client-urls=http://127.0.0.1:{client}"))
                .arg(format!("--advertise-client-urls=http://127.0.0.1:{client}"))
                .arg(format!("--listen-peer-urls=http://127.0.0.1:{peer}"))
                .arg(format!("--initial-advertise-peer-urls=http://127.0.0.1:{peer}"))
                .arg(format!("--initial-cluster=test=http://127.0.0.1:{peer}"))
                .arg("--unsafe-no-fsync")
                .arg("--log-level=warn"),
            &dir.join("etcd.log"),
        )?;
        self.children.lock().unwrap().push(etcd);

        let p = |f: &str| pki.join(f).display().to_string();
        let api_args: Vec<String> = vec![
            format!("--etcd-servers=http://127.0.0.1:{client}"),
            "--bind-address=127.0.0.1".into(),
            "--advertise-address=127.0.0.1".into(),
            format!("--secure-port={secure}"),
            format!("--cert-dir={}", dir.join("certs").display()),
            format!("--tls-cert-file={}", p("server.crt")),
            format!("--tls-private-key-file={}", p("server.key")),
            format!("--client-ca-file={}", p("ca.crt")),
            format!("--token-auth-file={}", dir.join("tokens.csv").display()),
            "--authorization-mode=RBAC".into(),
            "--service-account-issuer=https://kubernetes.default.svc".into(),
            format!("--service-account-key-file={}", p("sa.pub")),
            format!("--service-account-signing-key-file={}", p("sa.key")),
            "--service-cluster-ip-range=10.96.0.0/16".into(),
            "--endpoint-reconciler-type=none".into(),
            "--profiling=false".into(),
            "--v=0".into(),
        ];
        let api = spawn(Command::new(apiserver).args(&api_args), &dir.join("kube-apiserver.log"))?;
        *self.api_command.lock().unwrap() = Some((apiserver.to_path_buf(), api_args));
        self.children.lock().unwrap().push(api);
        self.server = format!("https://127.0.0.1:{secure}");
        std::fs::write(&self.kubeconfig, kubeconfig_text(&self.server, pki)).map_err(|e| e.to_string())?;
        self.wait_ready(Duration::from_secs(180))?;

        let cm = spawn(
            Command::new(cm)
                .arg(format!("--kubeconfig={}", self.kubeconfig.display()))
                .arg("--leader-elect=false")
                .arg("--controllers=*,-serviceaccount-token")
                .arg("--port=0")
                .arg("--secure-port=0")
                .arg("--bind-address=127.0.0.1")
                .arg("--v=0"),
            &dir.join("kube-controller-manager.log"),
        )?;
        self.children.lock().unwrap().push(cm);
        std::fs::write(dir.join("ready"), &self.server).map_err(|e| e.to_string())?;
        Ok(())
    }

    fn wait_ready(&self, timeout: Duration) -> Result<(), String> {
        let start = Instant::now();
        loop {
            if let Some(code) = self.exited_child() {
                return Err(format!("a cluster process exited ({code}); see logs in {}", self.dir.display()));
            }
            let out = self.kubectl(&["get", "--raw", "/readyz"]);
            if out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "ok" {
                // RBAC bootstrap roles are created by a post-start hook covered by /readyz.
                return Ok(());
            }
            if start.elapsed() > timeout {
                return Err(format!(
                    "API server not ready after {timeout:?}: {}; logs in {}",
                    String::from_utf8_lossy(&out.stderr).trim(),
                    self.dir.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn exited_child(&self) -> Option<String> {
        let mut children = self.children.lock().unwrap();
        children.iter_mut().find_map(|c| c.try_wait().ok().flatten().map(|s| s.to_string()))
    }

    fn kill_children(&self) {
        let mut children = self.children.lock().unwrap_or_else(|e| e.into_inner());
        // Reverse start order: controller manager, API server, etcd.
        for mut c in children.drain(..).rev() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stop every process and (when owned) remove the data dir. Idempotent.
    pub fn stop(&self) {
        self.kill_children();
        if self.remove_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    /// `kubectl --kubeconfig <ours> ARGS` (admin context).
    pub fn kubectl(&self, args: &[&str]) -> Output {
        Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run kubectl")
    }

    /// Like [`kubectl`](Self::kubectl), panicking with stderr when it fails; returns stdout.
    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(out.status.success(), "kubectl {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `kubectl apply -f -` of a YAML text (admin), panicking on failure.
    pub fn apply_yaml(&self, yaml: &str, extra: &[&str]) -> String {
        use std::io::Write;
        let mut child = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(["apply", "-f", "-"])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run kubectl");
        child.stdin.take().unwrap().write_all(yaml.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "kubectl apply failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Send `signal` to etcd (`SIGSTOP` pauses it, `SIGCONT` resumes it).
    pub fn signal_etcd(&self, signal: i32) {
        let children = self.children.lock().unwrap();
        let pid = children.first().expect("etcd runs").id() as i32;
        // SAFETY: a signal to our own child process.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0, "kill({pid}, {signal})");
    }

    /// Kill the API server (SIGKILL), as a crash would.
    pub fn kill_apiserver(&self) {
        let mut children = self.children.lock().unwrap();
        let api = children.get_mut(1).expect("the API server runs");
        let _ = api.kill();
        let _ = api.wait();
    }

    /// Start the API server again, with the same ports and flags, and wait until it is ready.
    pub fn restart_apiserver(&self) {
        let (program, args) = self.api_command.lock().unwrap().clone().expect("started");
        let api = spawn(Command::new(program).args(args), &self.dir.join("kube-apiserver.restarted.log"))
            .expect("restart the API server");
        self.children.lock().unwrap()[1] = api;
        let start = Instant::now();
        while !String::from_utf8_lossy(&self.kubectl(&["get", "--raw", "/readyz"]).stdout).trim().eq("ok") {
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "API server not ready again; logs in {}",
                self.dir.display()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Create a namespace (tests use their own, named after the test).
    pub fn create_namespace(&self, name: &str) {
        self.kubectl_ok(&["create", "namespace", name]);
    }
}
