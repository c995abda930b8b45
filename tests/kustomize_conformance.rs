//! kustomize conformance: every case of `../shared/conformance/kustomize`
//! (taken from kustomize's own krusty tests, checked against kustomize
//! v5.5) is built with our renderer and compared with the expected output
//! as parsed YAML documents, in order. Cases listed in
//! `testdata/kustomize-skip.yaml` (out-of-scope features) are skipped.
//! Prints `kustomize conformance: N passed, M failed, K skipped`.

use std::path::{Path, PathBuf};

use kubectl_gitops::render::kustomize::{BuildOptions, build};
use kubectl_gitops::source::LocalSource;
use kubectl_gitops::yaml::{Dialect, parse_one, parse_stream};
use serde_json::Value;

fn suite_dir() -> Option<PathBuf> {
    if let Ok(d) = std::env::var("KUSTOMIZE_CONFORMANCE_DIR") {
        return PathBuf::from(d).canonicalize().ok();
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The shared directory sits beside the checkout (or beside its worktree folder).
    [manifest.join("../shared/conformance/kustomize"), manifest.join("../../shared/conformance/kustomize")]
        .into_iter()
        .find(|p| p.is_dir())
        // Canonical, so the source root matches paths behind symlinks.
        .and_then(|p| p.canonicalize().ok())
}

fn docs(text: &str) -> Vec<Value> {
    parse_stream(text, Dialect::Kustomize)
        .expect("expected.yaml parses")
        .into_iter()
        .map(|d| d.value)
        .filter(|v| !v.is_null())
        .collect()
}

/// Run one case: `Ok(())` when it conforms, else a reason.
fn run_case(dir: &Path) -> Result<(), String> {
    let case =
        parse_one(&std::fs::read_to_string(dir.join("case.yaml")).map_err(|e| e.to_string())?, Dialect::Kustomize)
            .map_err(|e| e.to_string())?;
    let input = dir.join("input");
    let run_dir = input.join(case["run_dir"].as_str().unwrap_or("."));
    let opts = BuildOptions {
        // No `--reorder` flag means kustomize's default, the legacy order.
        legacy_order: matches!(case["options"]["reorder"].as_str(), Some("legacy") | None),
        unrestricted_files: case["options"]["load_restrictor"].as_str() == Some("LoadRestrictionsNone"),
        ..BuildOptions::default()
    };
    let src = LocalSource::with_root(&input, &run_dir).map_err(|e| e.to_string())?;
    let result = build(&src, &opts);
    if case["expect_error"].as_bool() == Some(true) {
        let err = match result {
            Ok(_) => return Err("expected an error, got success".into()),
            Err(e) => e.to_string(),
        };
        for check in case["expected_error"].as_array().into_iter().flatten() {
            if let Some(s) = check["substring"].as_str().or(check["exact"].as_str())
                && !err.contains(s)
            {
                return Err(format!("error lacks {s:?}: {err}"));
            }
        }
        return Ok(());
    }
    let objects = result.map_err(|e| format!("unexpected error: {e}"))?;
    let got: Vec<Value> = objects.iter().map(|o| o.to_value()).collect();
    let want = docs(&std::fs::read_to_string(dir.join("expected.yaml")).map_err(|e| e.to_string())?);
    if got == want {
        return Ok(());
    }
    if got.len() != want.len() {
        return Err(format!("{} documents, expected {}", got.len(), want.len()));
    }
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        if g != w {
            return Err(format!(
                "document {i} differs:\n--- got\n{}\n--- expected\n{}",
                kubectl_gitops::yaml::to_yaml_string(g),
                kubectl_gitops::yaml::to_yaml_string(w)
            ));
        }
    }
    Err("documents differ".into())
}

fn main() {
    let Some(suite) = suite_dir() else {
        eprintln!("kustomize conformance: suite directory not found (set KUSTOMIZE_CONFORMANCE_DIR)");
        std::process::exit(1);
    };
    let skip_file = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/kustomize-skip.yaml");
    let skip =
        parse_one(&std::fs::read_to_string(&skip_file).expect("skip file"), Dialect::Kustomize).expect("skip yaml");
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&suite)
        .expect("suite dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("case.yaml").is_file())
        .collect();
    cases.sort();
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for dir in &cases {
        let name = dir.file_name().unwrap_or_default().to_string_lossy().into_owned();
        if filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        if let Some(reason) = skip.get(&name) {
            assert!(reason.as_str().is_some_and(|r| !r.is_empty()), "skip entry {name} needs a reason");
            skipped += 1;
            continue;
        }
        match run_case(dir) {
            Ok(()) => passed += 1,
            Err(why) => {
                failed += 1;
                println!("FAIL {name}: {why}");
            }
        }
    }
    println!("kustomize conformance: {passed} passed, {failed} failed, {skipped} skipped");
    if failed > 0 {
        std::process::exit(1);
    }
}
