//! The krew manifest's shape, and the release script that fills it in.

mod common;

use std::collections::HashSet;

use kubectl_gitops::yaml::{Dialect, parse_one};
use serde_json::Value;

fn manifest(text: &str) -> Value {
    parse_one(text, Dialect::Kubectl).expect("krew-manifest.yaml is valid YAML")
}

fn check_shape(m: &Value) {
    let version = format!("v{}", env!("CARGO_PKG_VERSION"));
    assert_eq!(m["apiVersion"], "krew.googlecontainertools.github.com/v1alpha2");
    assert_eq!(m["kind"], "Plugin");
    assert_eq!(m["metadata"]["name"], "gitops", "installed as `kubectl gitops`");
    let spec = &m["spec"];
    assert_eq!(spec["version"], version.as_str());
    for field in ["homepage", "shortDescription", "description"] {
        assert!(spec[field].as_str().is_some_and(|s| !s.trim().is_empty()), "spec.{field} is required");
    }
    let platforms = spec["platforms"].as_array().expect("spec.platforms");
    let mut seen = HashSet::new();
    for p in platforms {
        let labels = &p["selector"]["matchLabels"];
        let (os, arch) = (labels["os"].as_str().unwrap(), labels["arch"].as_str().unwrap());
        assert!(seen.insert((os, arch)), "one entry per platform: {os}/{arch} twice");
        let archive = format!("kubectl-gitops-{version}-{os}-{arch}.tar.gz");
        assert!(p["uri"].as_str().unwrap().ends_with(&format!("/{archive}")), "uri names {archive}");
        let sha = p["sha256"].as_str().unwrap();
        assert!(sha.len() == 64 && sha.chars().all(|c| c.is_ascii_hexdigit()), "sha256 of {archive}");
        assert_eq!(p["bin"], "kubectl-gitops");
        let froms: Vec<&str> = p["files"].as_array().unwrap().iter().map(|f| f["from"].as_str().unwrap()).collect();
        assert!(froms.contains(&"kubectl-gitops"), "the bin must be inside the archive");
    }
    let want: HashSet<(&str, &str)> =
        [("linux", "amd64"), ("linux", "arm64"), ("darwin", "amd64"), ("darwin", "arm64")].into();
    assert_eq!(seen, want);
}

#[test]
fn manifest_has_krew_shape() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/krew-manifest.yaml")).unwrap();
    check_shape(&manifest(&text));
}

#[test]
fn release_script_packages_the_bin_and_records_its_sha256() {
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("krew-manifest.yaml");
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/krew-manifest.yaml"), &copy).unwrap();
    let dist = tmp.path().join("dist");
    let out = std::process::Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/release-archive.sh"))
        .args(["--binary", common::bin(), "--dist", dist.to_str().unwrap(), "--manifest", copy.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let (archive, sha) = stdout.trim().split_once(" sha256 ").unwrap();
    let listing = std::process::Command::new("tar").args(["-tzf", archive]).output().unwrap();
    let names: Vec<String> = String::from_utf8_lossy(&listing.stdout).lines().map(String::from).collect();
    assert!(names.contains(&"kubectl-gitops".to_string()), "{names:?}");
    let m = manifest(&std::fs::read_to_string(&copy).unwrap());
    check_shape(&m);
    let entry = m["spec"]["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| archive.ends_with(p["uri"].as_str().unwrap().rsplit('/').next().unwrap()))
        .unwrap();
    assert_eq!(entry["sha256"], sha);
}
