//! The fault and latency proxy of the cluster tests (`tests/support/proxy.rs`)
//! as a program, for benchmark scripts:
//!
//! ```sh
//! cargo run --example fault-proxy -- CLUSTER_DIR LATENCY_MS OUT_KUBECONFIG &
//! kubectl --kubeconfig OUT_KUBECONFIG ...   # every request LATENCY_MS slower
//! ```
//!
//! CLUSTER_DIR is a test cluster's directory (`examples/test-cluster.rs`);
//! OUT_KUBECONFIG, written once the proxy listens, is its kubeconfig with the
//! proxy as the server. It runs until it is killed.

#[path = "../tests/support/proxy.rs"]
mod proxy;

use std::path::PathBuf;
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, latency, out] = &args[..] else {
        eprintln!("usage: fault-proxy CLUSTER_DIR LATENCY_MS OUT_KUBECONFIG");
        std::process::exit(2);
    };
    let dir = PathBuf::from(dir);
    let latency: u64 = latency.parse().unwrap_or_else(|_| {
        eprintln!("fault-proxy: LATENCY_MS must be a number of milliseconds");
        std::process::exit(2);
    });
    let kubeconfig = dir.join("kubeconfig");
    let text = std::fs::read_to_string(&kubeconfig).unwrap_or_else(|e| {
        eprintln!("fault-proxy: {}: {e}", kubeconfig.display());
        std::process::exit(1);
    });
    let Some(upstream) = text.lines().find_map(|l| l.trim_start().strip_prefix("server:")).map(str::trim) else {
        eprintln!("fault-proxy: no server in {}", kubeconfig.display());
        std::process::exit(1);
    };
    let p = proxy::Proxy::start_for(&dir, &kubeconfig, upstream);
    p.set_latency(Duration::from_millis(latency));
    // Written last: its presence says the proxy is up.
    let tmp = PathBuf::from(format!("{out}.tmp"));
    std::fs::copy(&p.kubeconfig, &tmp).and_then(|_| std::fs::rename(&tmp, out)).unwrap_or_else(|e| {
        eprintln!("fault-proxy: {out}: {e}");
        std::process::exit(1);
    });
    println!("{} -> {upstream}, {latency} ms per round trip", p.url);
    loop {
        std::thread::park();
    }
}
