//! Replays every seed in `fuzz/seeds/<target>/` and every input that once
//! crashed a fuzz target, kept in `fuzz/regressions/<target>/`, through the
//! entry points of `kubectl_gitops::fuzzing`: none may panic. The fuzzers
//! themselves run from `scripts/fuzz.sh`, not here.

use std::path::Path;

use kubectl_gitops::fuzzing::TARGETS;

#[test]
fn seeds_and_regressions_do_not_crash() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut replayed = 0;
    for kind in ["seeds", "regressions"] {
        for (name, target) in TARGETS {
            let dir = root.join(kind).join(name);
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            let mut files: Vec<_> = entries.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
            files.sort();
            for file in files {
                let data = std::fs::read(&file).unwrap();
                // A panic here fails the test and names the input.
                eprintln!("{name}: {}", file.display());
                target(&data);
                replayed += 1;
            }
        }
    }
    // Every target has at least one seed: a renamed directory cannot make
    // this test pass vacuously.
    for (name, _) in TARGETS {
        assert!(root.join("seeds").join(name).read_dir().is_ok_and(|mut d| d.next().is_some()), "no seeds for {name}");
    }
    assert!(replayed >= TARGETS.len());
}
