//! Run the test cluster of `tests/support/cluster.rs` for humans and
//! benchmark scripts:
//!
//! ```sh
//! cargo run --example test-cluster -- DIR &   # DIR/kubeconfig, DIR/ready when up
//! ...                                         # kubectl --kubeconfig DIR/kubeconfig ...
//! kill %1                                     # the cluster dies with this process
//! ```
//!
//! It runs until it is killed; the cluster's processes die with it
//! (PR_SET_PDEATHSIG). DIR is left in place for the caller to remove.

#[path = "../tests/support/cluster.rs"]
mod cluster;

use std::path::PathBuf;

fn main() {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: test-cluster DIR");
        std::process::exit(2);
    };
    let c = match cluster::start_owned(&dir, false) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("test-cluster: {e}");
            std::process::exit(1);
        }
    };
    println!("{}", c.kubeconfig.display());
    loop {
        std::thread::park();
    }
}
