//! Log setup: `tracing` to stderr, level from `-v` or `RUST_LOG`.

use tracing_subscriber::EnvFilter;

/// Install the stderr logger. `verbosity` is the count of `-v` flags.
/// `ansi`: colour the level names (`--color`).
pub fn init(verbosity: u8, ansi: bool) {
    // Libraries' own warnings (kube's "Server cert bypassed" for an
    // insecure-skip-tls-verify context, say) show from -v on, as kubectl
    // keeps quiet about them. (A directive matches targets by prefix: no
    // bare `kube`, which would also match `kubectl_gitops`.)
    // kube says "Server cert bypassed" on every client it builds: this
    // tool says it once itself (`cluster::transport`), from -v on.
    let default = match verbosity {
        0 => "warn,kube_client=error,kube_runtime=error,hyper=error,hyper_util=error,rustls=error,tower=error",
        1 => "info,kube_client=error",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // git2 logs credential helper command lines and output, which can hold secrets.
    let filter = filter.add_directive("git2=off".parse().expect("a valid directive"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    // Debug output carries the time since start (where a run spends its time).
    let _ = if verbosity >= 2 {
        builder.with_timer(tracing_subscriber::fmt::time::uptime()).try_init()
    } else {
        builder.without_time().try_init()
    };
}

/// True the first time per process it is called with `key`.
fn first_time(key: &str) -> bool {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static SEEN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let seen = SEEN.get_or_init(|| Mutex::new(HashSet::new()));
    seen.lock().unwrap_or_else(|e| e.into_inner()).insert(key.to_string())
}

/// Log `message` as a warning once per process for `key` (the same setting
/// met on many objects, or read by several stages, is said once).
pub fn warn_once(key: &str, message: String) {
    if first_time(key) {
        tracing::warn!("{message}");
    }
}

/// [`warn_once`] at info level (shown from -v on).
pub fn info_once(key: &str, message: String) {
    if first_time(key) {
        tracing::info!("{message}");
    }
}

/// The Argo CD sync options that change how objects are written and that
/// this tool does not honour yet: what it does instead.
pub fn unsupported_sync_option(option: &str) -> Option<&'static str> {
    Some(match option {
        "Force=true" => "objects are not deleted and recreated on a failed apply",
        _ => return None,
    })
}
