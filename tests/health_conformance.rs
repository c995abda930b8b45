//! Argo CD health conformance: every case in ../shared/conformance/health
//! must get Argo CD's status and message. Prints
//! `health conformance: N passed, M failed`. (harness = false)

use std::path::Path;
use std::process::ExitCode;

use kubectl_gitops::health::assess;
use kubectl_gitops::yaml::{Dialect, DuplicateKeys, parse_one, parse_stream_with};
use serde_json::Value;

fn load(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // Fixtures are live objects as Go decoded them: duplicate keys allowed.
    parse_stream_with(&text, Dialect::Kubectl, DuplicateKeys::LastWins)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .remove(0)
        .value
}

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/health");
    if !root.is_dir() {
        eprintln!("health conformance: {} not found", root.display());
        return ExitCode::FAILURE;
    }
    let (mut passed, mut failed) = (0, 0);
    let expected = parse_one(&std::fs::read_to_string(root.join("expected.yaml")).unwrap(), Dialect::Kubectl).unwrap();
    for case in expected.as_array().unwrap() {
        let file = case["file"].as_str().unwrap();
        let got = assess(&load(&root.join("cases").join(file)));
        let want_status = case["status"].as_str().unwrap();
        let want_message = case.get("message").or_else(|| case.get("derived_message")).and_then(Value::as_str);
        let ok = got
            .as_ref()
            .is_some_and(|h| h.status.as_str() == want_status && want_message.is_none_or(|m| h.message == m));
        if ok {
            passed += 1;
        } else {
            failed += 1;
            println!("FAIL {file}: want {want_status} {want_message:?}, got {got:?}");
        }
    }
    let no_builtin =
        parse_one(&std::fs::read_to_string(root.join("no-builtin/expected.yaml")).unwrap(), Dialect::Kubectl).unwrap();
    for case in no_builtin.as_array().unwrap() {
        let file = case["file"].as_str().unwrap();
        let got = assess(&load(&root.join("no-builtin").join(file)));
        if got.is_none() {
            passed += 1;
        } else {
            failed += 1;
            println!("FAIL no-builtin/{file}: want no health, got {got:?}");
        }
    }
    println!("health conformance: {passed} passed, {failed} failed");
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
