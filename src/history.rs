//! Sync history: the entries an app's ApplySet parent keeps, newest last,
//! bounded by `revisionHistoryLimit`. Pure: (de)serialization and trimming;
//! `sync` stores the encoded list in the parent (data key [`DATA_KEY`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Key in the parent's `data` holding the JSON list of entries.
pub const DATA_KEY: &str = "history";
/// Default number of entries kept (Argo CD's `revisionHistoryLimit` default).
pub const DEFAULT_LIMIT: usize = 10;

/// Where the synced objects came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct HistorySource {
    /// Repository URL (credentials removed), or the local path.
    pub repo_url: String,
    /// Path inside the repository.
    #[serde(default)]
    pub path: String,
    /// The revision as asked (`main`, a tag, a SHA); empty for a local directory.
    #[serde(default)]
    pub target_revision: String,
    /// The resolved commit SHA, or `local:<sha256 of the rendered set>` for a working directory.
    pub revision: String,
    /// `Directory`, `Kustomize`, `Helm`, `Jsonnet`, `Plugin`.
    #[serde(default)]
    pub tool: String,
    /// Render parameters (flags such as `--set`, value files, namespace), to re-render identically.
    #[serde(default)]
    pub parameters: BTreeMap<String, Vec<String>>,
}

/// One recorded sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    /// Increasing id, starting at 1.
    pub id: u64,
    /// RFC 3339 time the sync finished.
    pub deployed_at: String,
    /// The kubeconfig user (or context) that ran the sync.
    pub user: String,
    pub source: HistorySource,
    /// `Succeeded` or `Failed: <reason>`.
    pub result: String,
}

/// How a value that is not stored appears in a record (see [`secret_digest`]).
pub const SECRET_PREFIX: &str = "(not stored) sha256:";

/// How a file input (a values file, `--set-file`, `--ext-str-file`...) is
/// recorded: its absolute path, this separator, and the first 16 hex digits
/// of its content's SHA-256, so that a rollback can tell whether the file
/// still holds what was deployed.
pub const FILE_DIGEST_SEP: &str = " @sha256:";

/// `path` as the history records it (see [`FILE_DIGEST_SEP`]); an
/// unreadable file is recorded without a digest.
pub fn file_record(path: &std::path::Path) -> String {
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    match std::fs::read(&abs) {
        Ok(bytes) => format!("{}{FILE_DIGEST_SEP}{}", abs.display(), short_sha256(&bytes)),
        Err(_) => abs.display().to_string(),
    }
}

fn short_sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// For a value recorded by [`file_record`]: the path, and whether the file
/// still has the recorded content (`Err` says what differs).
pub fn check_file_record(value: &str) -> (String, std::result::Result<(), String>) {
    let Some((path, digest)) = value.rsplit_once(FILE_DIGEST_SEP) else { return (value.to_string(), Ok(())) };
    let now = match std::fs::read(path) {
        Ok(bytes) => short_sha256(&bytes),
        Err(e) => return (path.to_string(), Err(format!("{path}: {e}"))),
    };
    let check = if now == digest {
        Ok(())
    } else {
        Err(format!("{path} has changed (sha256 {digest} when deployed, {now} now)"))
    };
    (path.to_string(), check)
}

/// What the history keeps of a value given on the command line (`--set`,
/// `--plugin-env`, `--ext-str`...): that it was given, and the first 16 hex
/// digits of its SHA-256, never the value, which may be a secret.
pub fn secret_digest(value: &str) -> String {
    format!("{SECRET_PREFIX}{}", short_sha256(value.as_bytes()))
}

/// Decode the stored list (an absent key is an empty history).
pub fn decode(bytes: Option<&[u8]>) -> Result<Vec<HistoryEntry>> {
    match bytes {
        None => Ok(Vec::new()),
        Some(b) => {
            serde_json::from_slice(b).map_err(|e| Error::Usage(format!("the app's stored history is unreadable: {e}")))
        }
    }
}

/// Encode the list for storage.
pub fn encode(entries: &[HistoryEntry]) -> Vec<u8> {
    serde_json::to_vec(entries).expect("history entries serialize")
}

/// Append an entry (its id is the last id + 1) and keep the newest `limit`.
pub fn record(entries: &mut Vec<HistoryEntry>, mut entry: HistoryEntry, limit: usize) -> u64 {
    entry.id = entries.last().map_or(1, |e| e.id + 1);
    let id = entry.id;
    entries.push(entry);
    let limit = limit.max(1);
    if entries.len() > limit {
        entries.drain(..entries.len() - limit);
    }
    id
}

/// The current time, RFC 3339 in UTC to the second (`2026-11-25T17:00:00Z`).
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

/// `secs` since the Unix epoch as RFC 3339 UTC (proleptic Gregorian calendar).
pub fn rfc3339(secs: u64) -> String {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// The entry with this id.
pub fn find(entries: &[HistoryEntry], id: u64) -> Option<&HistoryEntry> {
    entries.iter().find(|e| e.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(rev: &str) -> HistoryEntry {
        HistoryEntry {
            id: 0,
            deployed_at: "2026-11-25T17:00:00Z".into(),
            user: "admin".into(),
            source: HistorySource { repo_url: "file:///repo".into(), revision: rev.into(), ..Default::default() },
            result: "Succeeded".into(),
        }
    }

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_625_999), "2026-11-25T16:59:59Z");
        assert!(now_rfc3339().ends_with('Z'));
    }

    #[test]
    fn ids_increase_and_the_limit_trims_the_oldest() {
        let mut h = Vec::new();
        for i in 0..5 {
            record(&mut h, entry(&format!("r{i}")), 3);
        }
        assert_eq!(h.iter().map(|e| e.id).collect::<Vec<_>>(), [3, 4, 5]);
        assert_eq!(find(&h, 4).unwrap().source.revision, "r3");
        assert!(find(&h, 1).is_none());
        let back = decode(Some(&encode(&h))).unwrap();
        assert_eq!(back, h);
        assert!(decode(None).unwrap().is_empty());
        assert!(decode(Some(b"not json")).is_err());
    }
}
