//! `rollback`: sync an app again as one of its history entries recorded it.
//! The entry's source (repository, path and commit, or Application file at
//! that commit) and render flags become the command line of a `sync`, so a
//! rollback has every safety of a sync (preflight, prune confirmation, the
//! lock) and is recorded as a new history entry.

use crate::error::{Error, Result};
use crate::history::HistoryEntry;

/// Parameters that describe where the source is, not how it renders.
const NOT_FLAGS: [&str; 6] = ["namespace", "app", "app-name", "sources", "root", "revision"];

/// The `sync` source flags re-rendering `entry`: `--repo/--path` or
/// `--app/--app-name`, `--revision <commit>`, then the recorded render flags.
pub fn source_flags(entry: &HistoryEntry) -> Result<Vec<String>> {
    let s = &entry.source;
    if let Some(hash) = s.revision.strip_prefix("local:") {
        return Err(Error::Refused(format!(
            "history entry {} was synced from the local directory {} (content hash {}): only its hash is kept, \
             so it cannot be re-rendered; restore that content and sync it, or sync from git to make rollbacks possible",
            entry.id,
            s.repo_url,
            &hash[..hash.len().min(12)]
        )));
    }
    if s.parameters.contains_key("sources") {
        return Err(Error::Refused(format!(
            "history entry {} comes from a multi-source Application: rollback supports single-source apps only",
            entry.id
        )));
    }
    if s.revision.is_empty() || s.repo_url.is_empty() {
        return Err(Error::Refused(format!("history entry {} records no repository and commit", entry.id)));
    }
    let unstored: Vec<String> = s
        .parameters
        .iter()
        .filter(|(_, values)| values.iter().any(|v| v.contains(crate::history::SECRET_PREFIX)))
        .map(|(k, _)| format!("--{k}"))
        .collect();
    if !unstored.is_empty() {
        return Err(Error::Refused(format!(
            "history entry {} was rendered with values given on the command line ({}), which the history does not \
             store (they may be secrets); sync that commit again with them: \
             `kubectl gitops sync ... --revision {}` and the same flags",
            entry.id,
            unstored.join(", "),
            s.revision
        )));
    }
    // Files outside the commit must still hold what was deployed.
    let mut changed = Vec::new();
    let parameters: Vec<(&String, Vec<String>)> = s
        .parameters
        .iter()
        .map(|(k, values)| {
            let checked = values
                .iter()
                .map(|v| {
                    let (name, rest) = match v.split_once('=') {
                        Some((n, r)) if r.contains(crate::history::FILE_DIGEST_SEP) => (Some(n), r),
                        _ => (None, v.as_str()),
                    };
                    let (path, check) = crate::history::check_file_record(rest);
                    if let Err(e) = check {
                        changed.push(format!("--{k} {e}"));
                    }
                    name.map_or(path.clone(), |n| format!("{n}={path}"))
                })
                .collect();
            (k, checked)
        })
        .collect();
    if !changed.is_empty() {
        return Err(Error::Refused(format!(
            "history entry {} was rendered with files that no longer hold what was deployed: {}; restore them, or \
             sync that commit with the inputs you want: `kubectl gitops sync ... --revision {}`",
            entry.id,
            changed.join("; "),
            s.revision
        )));
    }
    let mut argv: Vec<String> = Vec::new();
    let mut push = |k: &str, v: &str| {
        argv.push(format!("--{k}"));
        argv.push(v.to_string());
    };
    match s.parameters.get("app").and_then(|v| v.first()) {
        Some(file) => {
            push("app", file);
            if let Some(name) = s.parameters.get("app-name").and_then(|v| v.first()) {
                push("app-name", name);
            }
        }
        None => {
            push("repo", &s.repo_url);
            if !s.path.is_empty() {
                push("path", &s.path);
            }
        }
    }
    push("revision", &s.revision);
    for (k, values) in parameters.iter().filter(|(k, _)| !NOT_FLAGS.contains(&k.as_str())) {
        if ["recursive", "skip-crds", "allow-repo-plugins"].contains(&k.as_str()) {
            push(k, "");
            continue;
        }
        for v in values {
            push(k, v);
        }
    }
    argv.retain(|a| !a.is_empty());
    Ok(argv)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::HistorySource;

    fn entry(source: HistorySource) -> HistoryEntry {
        HistoryEntry { id: 3, deployed_at: String::new(), user: String::new(), source, result: "Succeeded".into() }
    }

    #[test]
    fn flags_rebuild_the_source_at_its_commit() {
        let mut source = HistorySource {
            repo_url: "https://example.com/r.git".into(),
            path: "apps/web".into(),
            target_revision: "main".into(),
            revision: "a".repeat(40),
            tool: "Helm".into(),
            parameters: Default::default(),
        };
        source.parameters.insert("set".into(), vec!["a=1".into(), "b=2".into()]);
        source.parameters.insert("recursive".into(), vec!["true".into()]);
        source.parameters.insert("namespace".into(), vec!["team".into()]);
        let argv = source_flags(&entry(source.clone())).unwrap();
        let want = ["--repo", "https://example.com/r.git", "--path", "apps/web", "--revision", &"a".repeat(40)];
        assert_eq!(&argv[..6], want);
        assert_eq!(&argv[6..], ["--recursive", "--set", "a=1", "--set", "b=2"]);

        source.parameters.insert("app".into(), vec!["/x/app.yaml".into()]);
        let argv = source_flags(&entry(source.clone())).unwrap();
        assert_eq!(&argv[..4], ["--app", "/x/app.yaml", "--revision", &"a".repeat(40)]);

        let mut secret = source.clone();
        secret.parameters.insert("tla-str".into(), vec![format!("t={}", crate::history::secret_digest("s3cret"))]);
        let err = source_flags(&entry(secret)).unwrap_err().to_string();
        assert!(err.contains("--tla-str") && err.contains("does not store") && !err.contains("s3cret"), "{err}");

        source.revision = format!("local:{}", "b".repeat(64));
        let err = source_flags(&entry(source)).unwrap_err().to_string();
        assert!(err.contains("entry 3") && err.contains("local directory"), "{err}");
    }
}
