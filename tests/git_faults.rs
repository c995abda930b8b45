//! Git sources under faults (issue 22): the server gone in the middle of a
//! fetch, a server that stops answering, and a damaged cache repository.
//! Every failure is a clear error (exit 2) in bounded time, and the next run
//! converges: the cache is usable again, repaired when it was damaged.

mod git_support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

use git_support::{Env, GitDaemon, Repo, cm};

/// What [`CutProxy`] does with the server's bytes past its budget.
const PASS: u8 = 0;
/// Close both directions (the server is gone).
const CUT: u8 = 1;
/// Keep the connection open and forward nothing more (the server hangs).
const STALL: u8 = 2;

/// A TCP relay on 127.0.0.1 in front of a git server that, in mode CUT or
/// STALL, lets only `budget` bytes of each response stream through.
struct CutProxy {
    port: u16,
    mode: Arc<AtomicU8>,
    budget: Arc<AtomicU64>,
}

impl CutProxy {
    fn start(upstream: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mode = Arc::new(AtomicU8::new(PASS));
        let budget = Arc::new(AtomicU64::new(u64::MAX));
        let (m, b) = (mode.clone(), budget.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else { continue };
                let (m, b) = (m.load(Ordering::SeqCst), b.load(Ordering::SeqCst));
                relay(client, server, m, b);
            }
        });
        CutProxy { port, mode, budget }
    }

    fn set(&self, mode: u8, budget: u64) {
        self.mode.store(mode, Ordering::SeqCst);
        self.budget.store(budget, Ordering::SeqCst);
    }

    fn url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}.git", self.port)
    }
}

fn relay(client: TcpStream, server: TcpStream, mode: u8, budget: u64) {
    let (mut c_in, mut s_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut c_in, &mut s_out);
        let _ = s_out.shutdown(Shutdown::Write);
    });
    std::thread::spawn(move || {
        let (mut s_in, mut c_out) = (server, client);
        let mut sent = 0u64;
        let mut buf = [0u8; 8192];
        loop {
            let n = match s_in.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let allowed = if mode == PASS { n } else { n.min(usize::try_from(budget - sent).unwrap_or(n)) };
            if c_out.write_all(&buf[..allowed]).is_err() {
                break;
            }
            sent += allowed as u64;
            if allowed < n || (mode != PASS && sent >= budget) {
                if mode == STALL {
                    // Hold both sockets open, silent, until the client gives up.
                    let mut sink = [0u8; 1024];
                    while matches!(c_out.read(&mut sink), Ok(n) if n > 0) {}
                }
                break;
            }
        }
        let _ = c_out.shutdown(Shutdown::Both);
        let _ = s_in.shutdown(Shutdown::Both);
    });
}

/// A repository whose pack is a few MiB (incompressible data), so a cut at
/// 64 KiB lands in the middle of the pack.
fn big_repo() -> Repo {
    let repo = Repo::new();
    repo.write("app/cm.yaml", &cm("one"));
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let noise: String = (0..3_000_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(b'!' + (state % 90) as u8)
        })
        .collect();
    repo.write("data/noise.txt", &noise);
    repo.commit("one");
    repo.publish("cfg");
    repo
}

fn render(env: &Env, url: &str, extra: &[&str]) -> git_support::Run {
    let mut args = vec!["render", "--repo", url, "--path", "app", "-o", "name"];
    args.extend_from_slice(extra);
    env.run_within(Duration::from_secs(60), std::env::temp_dir().as_path(), &args)
}

#[test]
fn server_gone_or_silent_mid_fetch_is_an_error_and_the_next_run_converges() {
    let repo = big_repo();
    let daemon = GitDaemon::start(&repo.served);
    let proxy = CutProxy::start(daemon.port);
    let env = Env::new().set("KUBECTL_GITOPS_GIT_TIMEOUT", "2");

    // The connection closes 64 KiB into the pack.
    proxy.set(CUT, 64 * 1024);
    let r = render(&env, &proxy.url("cfg"), &[]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("fetch failed"), "{}", r.stderr);
    assert!(r.stderr.contains(&proxy.url("cfg")), "the error names the repository: {}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);

    // The server stops answering: the read timeout ends the fetch.
    proxy.set(STALL, 64 * 1024);
    let started = std::time::Instant::now();
    let r = render(&env, &proxy.url("cfg"), &[]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("fetch failed"), "{}", r.stderr);
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());

    // The server is back: the same cache fetches and renders.
    proxy.set(PASS, u64::MAX);
    let r = render(&env, &proxy.url("cfg"), &[]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.stdout, "configmap/one\n");
    assert!(!r.stderr.contains("damaged"), "an interrupted fetch leaves no damage: {}", r.stderr);
    let r = render(&env, &proxy.url("cfg"), &["--offline"]);
    assert_eq!(r.code, 0, "{}", r.all());
}

/// The cached bare repository of the only repository in `env`'s cache.
fn cached_repo(env: &Env) -> PathBuf {
    let root = env.cache().join("kubectl-gitops").join("repos");
    let found: Vec<PathBuf> = walk(&root).into_iter().filter(|p| p.join("HEAD").is_file()).collect();
    assert_eq!(found.len(), 1, "one cached repository under {}: {found:?}", root.display());
    found[0].clone()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.push(p.clone());
            out.extend(walk(&p));
        }
    }
    out
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() { out.extend(files_under(&p)) } else { out.push(p) }
    }
    out
}

/// Overwrite every object file (packs and loose objects) with garbage of the same size.
fn garble_objects(bare: &Path) {
    let files = files_under(&bare.join("objects"));
    let mut garbled = 0;
    for f in files.iter().filter(|f| {
        let name = f.file_name().unwrap().to_string_lossy();
        name.ends_with(".pack") || (name.len() == 38 && !name.contains('.'))
    }) {
        let len = std::fs::metadata(f).unwrap().len() as usize;
        let mut perms = std::fs::metadata(f).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        std::fs::set_permissions(f, perms).unwrap();
        std::fs::write(f, vec![0x5a; len]).unwrap();
        garbled += 1;
    }
    assert!(garbled > 0, "no object files in {}", bare.display());
}

#[test]
fn a_damaged_cache_is_refetched_and_offline_says_so() {
    let repo = Repo::new();
    repo.write("app/cm.yaml", &cm("one"));
    repo.commit("one");
    repo.publish("cfg");
    let daemon = GitDaemon::start(&repo.served);
    let url = daemon.url("cfg");
    let env = Env::new();
    assert_eq!(render(&env, &url, &[]).code, 0);
    let bare = cached_repo(&env);

    // Damaged objects: offline, a clear error naming the repository and the way out.
    garble_objects(&bare);
    let r = render(&env, &url, &["--offline"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("damaged") && r.stderr.contains(&url), "{}", r.stderr);
    assert!(r.stderr.contains("without --offline"), "{}", r.stderr);
    // Online, it is fetched again from scratch; offline works afterwards.
    let r = render(&env, &url, &[]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.stdout, "configmap/one\n");
    assert!(r.stderr.contains("damaged"), "the repair is reported: {}", r.stderr);
    assert_eq!(render(&env, &url, &["--offline"]).code, 0);

    // A broken HEAD and config: the repository does not even open.
    std::fs::write(bare.join("HEAD"), "garbage\n").unwrap();
    std::fs::write(bare.join("config"), "[core\n\tbare = \n").unwrap();
    let r = render(&env, &url, &[]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.stdout, "configmap/one\n");
    assert_eq!(render(&env, &url, &["--offline"]).code, 0);

    // A branch ref pointing at an object that is not there.
    std::fs::write(bare.join("refs/heads/main"), format!("{}\n", "1".repeat(40))).unwrap();
    let _ = std::fs::remove_file(bare.join("packed-refs"));
    let r = render(&env, &url, &[]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.stdout, "configmap/one\n");
}
