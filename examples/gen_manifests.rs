//! `cargo run --release --example gen_manifests -- DIR [COUNT]`: write a
//! benchmark directory of COUNT (default 10000) plain manifests.

#[path = "../benches/gen.rs"]
mod generate;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: gen_manifests DIR [COUNT]");
    let count = args.next().map_or(10_000, |c| c.parse().expect("COUNT must be a number"));
    generate::generate(std::path::Path::new(&dir), count).expect("write manifests");
}
