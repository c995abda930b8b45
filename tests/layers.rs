//! The layer rules of ARCHITECTURE.md, checked by reading the sources:
//! - the command line (`src/cli/`, `src/main.rs`) is the only place that
//!   knows clap, the terminal UI, or the `cli` module; the library
//!   (everything else, the use cases in `src/usecase/` and `src/fleet/`
//!   among it) never refers to them;
//! - the pure stages (`render`, `source`, `gotmpl`, `normalize`, `model`,
//!   `yaml`, `diff`, `health`) use neither the cluster nor the use cases;
//! - only `src/cluster/` talks to an API server (`kube` clients and APIs,
//!   `tokio`); elsewhere `kube` is used for kubeconfig files only;
//! - `src/net/` (chart repositories and registries) is the only other
//!   module with async network I/O (`hyper`, `tokio`), and it knows nothing
//!   of the cluster.
//!
//! Comment lines are not code and are skipped.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// (file relative to `src/`, line number, code line) of every non-comment line.
fn code_lines() -> Vec<(String, usize, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let rel = f.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
        for (i, line) in std::fs::read_to_string(&f).unwrap().lines().enumerate() {
            if !line.trim_start().starts_with("//") {
                out.push((rel.clone(), i + 1, line.to_string()));
            }
        }
    }
    out
}

/// Lines of files matching `in_layer` that contain any of `forbidden`.
fn violations(in_layer: impl Fn(&str) -> bool, forbidden: &[&str]) -> Vec<String> {
    code_lines()
        .into_iter()
        .filter(|(file, _, _)| in_layer(file))
        .filter_map(|(file, n, line)| {
            let hit = forbidden.iter().find(|f| line.contains(*f))?;
            Some(format!("src/{file}:{n}: `{hit}`: {}", line.trim()))
        })
        .collect()
}

fn is_cli(file: &str) -> bool {
    file.starts_with("cli/") || file == "main.rs"
}

#[test]
fn the_library_knows_nothing_of_the_command_line() {
    let v = violations(|f| !is_cli(f), &["crate::cli", "clap::", "use clap", "indicatif", "kubectl_gitops::cli"]);
    assert!(v.is_empty(), "the library refers to the command-line layer:\n{}", v.join("\n"));
}

#[test]
fn the_pure_stages_use_neither_the_cluster_nor_the_use_cases() {
    let pure = ["render/", "source/", "gotmpl/", "normalize/", "model/", "yaml/", "diff/", "health/"];
    let v = violations(
        |f| pure.iter().any(|p| f.starts_with(p)),
        &["crate::cluster", "crate::sync", "crate::fleet", "crate::usecase", "crate::status", "tokio::"],
    );
    assert!(v.is_empty(), "a pure stage reaches for the cluster or a use case:\n{}", v.join("\n"));
}

#[test]
fn only_the_cluster_module_talks_to_an_api_server() {
    let v = violations(|f| !f.starts_with("cluster/"), &["kube::Client", "kube::Api", "kube::api::"]);
    assert!(v.is_empty(), "API server I/O outside src/cluster/:\n{}", v.join("\n"));
    let v = violations(|f| !f.starts_with("cluster/") && !f.starts_with("net/"), &["tokio::", "hyper::"]);
    assert!(v.is_empty(), "async network I/O outside src/cluster/ and src/net/:\n{}", v.join("\n"));
    let v = violations(|f| f.starts_with("net/"), &["kube::", "crate::cluster", "crate::source", "crate::render"]);
    assert!(v.is_empty(), "src/net/ reaches for the cluster or the pipeline:\n{}", v.join("\n"));
}

#[test]
fn the_rules_see_violations() {
    // The checker itself: a line that breaks a rule is found, a comment is not.
    let lines = code_lines();
    assert!(lines.iter().any(|(f, _, l)| f == "cli/run.rs" && l.contains("crate::cli")));
    assert!(!lines.iter().any(|(_, _, l)| l.trim_start().starts_with("//")));
}
