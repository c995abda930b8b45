//! Criterion benchmark of the offline pipeline (render + normalize + YAML
//! output) on 10,000 generated objects. `cargo bench --bench render`.

#[path = "gen.rs"]
mod generate;

use criterion::{Criterion, criterion_group, criterion_main};
use kubectl_gitops::normalize::{NormalizeOptions, normalize};
use kubectl_gitops::output::{OutputFormat, write_objects};
use kubectl_gitops::render::{RenderOptions, render};
use kubectl_gitops::source::LocalSource;

fn bench_render(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    generate::generate(dir.path(), 10_000).unwrap();
    let src = LocalSource::open(dir.path()).unwrap();
    let mut group = c.benchmark_group("render-10k");
    group.sample_size(20);
    group.bench_function("render+normalize", |b| {
        b.iter(|| {
            let objs = render(&src, &RenderOptions::default()).unwrap();
            normalize(objs, &NormalizeOptions::default()).unwrap()
        })
    });
    let set = normalize(render(&src, &RenderOptions::default()).unwrap(), &NormalizeOptions::default()).unwrap();
    group.bench_function("yaml-output", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(4 << 20);
            write_objects(&mut out, &set, OutputFormat::Yaml).unwrap();
            out
        })
    });
    group.finish();
}

criterion_group!(benches, bench_render);
criterion_main!(benches);
