//! `cargo run --release --example gen_manifests -- DIR [COUNT [NAMESPACES]]`:
//! write a benchmark directory of COUNT (default 10000) plain manifests in
//! NAMESPACES (default 10) namespaces.

#[path = "../benches/gen.rs"]
mod generate;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: gen_manifests DIR [COUNT]");
    let count = args.next().map_or(10_000, |c| c.parse().expect("COUNT must be a number"));
    let namespaces = args.next().map_or(10, |c| c.parse().expect("NAMESPACES must be a number"));
    generate::generate_in(std::path::Path::new(&dir), count, namespaces).expect("write manifests");
}
