//! `status`: an app at a glance. Sync status from the same comparison
//! `diff` makes (server-side dry-run, then the object diff), health rolled
//! up from the live objects ([`crate::health`]), the deployed revision (the
//! last entry of the parent's history) against the one the source renders
//! to now.

use std::collections::{BTreeMap, HashSet};
use std::io::{self, Write};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::cluster::{Cluster, compare};
use crate::diff::{Action, DiffOptions, diff_object};
use crate::error::Result;
use crate::health::{Health, HealthStatus, assess_for_wait, roll_up};
use crate::history::HistoryEntry;
use crate::model::{Object, ObjectKey};
use crate::normalize::ObjectSet;
use crate::output::OutputFormat;
use crate::sync::parent::{self, ParentKind};

pub const SYNCED: &str = "Synced";
pub const OUT_OF_SYNC: &str = "OutOfSync";

/// Whether the cluster matches the source (Argo CD's sync status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncStatus {
    Synced,
    OutOfSync,
    /// Not known: the source could not be rendered or compared.
    Unknown,
}

impl SyncStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncStatus::Synced => SYNCED,
            SyncStatus::OutOfSync => OUT_OF_SYNC,
            SyncStatus::Unknown => crate::list::UNKNOWN,
        }
    }

    /// `OutOfSync` when `changed`, else `Synced`.
    pub fn of(changed: bool) -> SyncStatus {
        if changed { SyncStatus::OutOfSync } else { SyncStatus::Synced }
    }
}

impl std::fmt::Display for SyncStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for SyncStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// An object's health as text: empty when its kind has none.
fn health_text<S: serde::Serializer>(h: &Option<HealthStatus>, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(h.map_or("", HealthStatus::as_str))
}

/// The revision of a working-directory source: `local:` and the SHA-256 of
/// its normalized set as `render -o yaml` prints it.
pub fn local_revision(set: &ObjectSet) -> String {
    let mut buf = Vec::new();
    crate::output::write_objects(&mut buf, set, OutputFormat::Yaml).expect("writing to memory");
    let digest = Sha256::digest(&buf);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("local:{hex}")
}

/// One object's status.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ObjectStatus {
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub sync: SyncStatus,
    /// Its health; `None` (shown empty) when the kind has none (counted healthy).
    #[serde(serialize_with = "health_text")]
    pub health: Option<HealthStatus>,
    /// Why: the health message, or that it is missing or would be pruned.
    pub message: String,
}

/// Objects per sync and health status.
#[derive(Debug, Clone, Serialize, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StatusCounts {
    pub objects: usize,
    pub out_of_sync: usize,
    pub health: BTreeMap<String, usize>,
}

/// An app's status.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppStatus {
    pub app: String,
    pub namespace: String,
    pub sync: SyncStatus,
    pub health: HealthStatus,
    /// The revision of the last successful sync (none before the first one).
    pub deployed_revision: Option<String>,
    /// The revision the source resolves to now.
    pub source_revision: String,
    /// The last sync recorded in the history.
    pub last_sync: Option<HistoryEntry>,
    pub counts: StatusCounts,
    pub objects: Vec<ObjectStatus>,
}

/// Compute the status of app `app`: `objects` are the source's rendered
/// objects (not normalized), `source_revision` what it resolves to now.
pub fn status(
    cluster: &Cluster,
    mut objects: Vec<Object>,
    app: &str,
    parent_kind: ParentKind,
    source_revision: String,
    opts: &DiffOptions,
) -> Result<AppStatus> {
    let ns = cluster.default_namespace().to_string();
    let reference = parent_kind.reference(&ns, app);
    let id = reference.id();
    crate::sync::label_members(&mut objects, &id)?;
    let resolved = compare::prepare_with(cluster, objects, opts.write)?;
    let comparisons = compare::compare_for_status(cluster, &resolved)?;
    let shared: std::collections::HashMap<ObjectKey, String> =
        crate::sync::shared_objects(&comparisons, &id, app).into_iter().map(|(k, other, _)| (k, other)).collect();
    let mut items = Vec::new();
    let mut healths: Vec<Option<Health>> = Vec::new();
    for c in &comparisons {
        let changed = diff_object(c.live.as_ref(), Some(&c.predicted), opts).action != Action::None;
        let health = match &c.live {
            None => Some(Health { status: HealthStatus::Missing, message: "not found in the cluster".into() }),
            Some(live) => assess_for_wait(live),
        };
        // An object another app's ApplySet holds: a sync leaves it to its
        // owner (or fails, or adopts it), so say whose it is.
        let note = shared.get(&c.desired.key()).map(|o| format!("shared: belongs to {o}")).unwrap_or_default();
        items.push(object_status(&c.desired.key(), changed, health.as_ref(), &note));
        healths.push(health);
    }
    let parent = parent::read(cluster, reference, true)?;
    if parent.live.is_some() {
        // Live members the source no longer renders: a `sync --prune` deletes them.
        let mut inv = parent.recorded.clone();
        inv.namespaces.insert(ns.clone());
        let keys: HashSet<ObjectKey> = resolved.set.objects().iter().map(Object::key).collect();
        let plan = crate::sync::prune::plan_prune(cluster, &parent.id, &inv, &keys, &ns)?;
        for item in &plan.delete {
            let health = assess_for_wait(&item.live);
            // Argo CD's `compare-options: IgnoreExtraneous`: not counted
            // OutOfSync (a prune still deletes it).
            let ignored = item
                .live
                .pointer("/metadata/annotations")
                .and_then(|a| a.get(crate::keys::COMPARE_OPTIONS))
                .and_then(serde_json::Value::as_str)
                .is_some_and(|o| o.split(',').any(|x| x.trim() == "IgnoreExtraneous"));
            let note = if ignored {
                "not rendered (IgnoreExtraneous: not counted OutOfSync); sync --prune deletes it"
            } else {
                "not rendered: sync --prune deletes it"
            };
            items.push(object_status(&item.key(), !ignored, health.as_ref(), note));
            healths.push(health);
        }
        // Members a prune keeps (Prune=false, a Namespace in use) still
        // require pruning: OutOfSync, as Argo CD shows them.
        for (item, reason) in &plan.kept {
            let health = assess_for_wait(&item.live);
            let note = format!("not rendered: requires pruning, which is skipped ({reason})");
            items.push(object_status(&item.key(), true, health.as_ref(), &note));
            healths.push(health);
        }
    }
    let mut counts = StatusCounts { objects: items.len(), ..Default::default() };
    counts.out_of_sync = items.iter().filter(|i| i.sync == SyncStatus::OutOfSync).count();
    for h in healths.iter().flatten() {
        *counts.health.entry(h.status.as_str().to_string()).or_default() += 1;
    }
    let last_sync = parent.history.last().cloned();
    let deployed_revision =
        parent.history.iter().rev().find(|e| e.result == "Succeeded").map(|e| e.source.revision.clone());
    Ok(AppStatus {
        app: app.to_string(),
        namespace: ns,
        sync: SyncStatus::of(counts.out_of_sync > 0),
        health: roll_up(healths.iter().map(Option::as_ref)),
        deployed_revision,
        source_revision,
        last_sync,
        counts,
        objects: items,
    })
}

fn object_status(key: &ObjectKey, changed: bool, health: Option<&Health>, note: &str) -> ObjectStatus {
    let message = match health {
        Some(h) if !h.message.is_empty() && note.is_empty() => h.message.clone(),
        _ => note.to_string(),
    };
    ObjectStatus {
        group: key.group.clone(),
        kind: key.kind.clone(),
        namespace: key.namespace.clone(),
        name: key.name.clone(),
        sync: SyncStatus::of(changed),
        health: health.map(|h| h.status),
        message,
    }
}

/// A short revision for tables: a commit's first 7 hex digits, `local:` and 12 of a hash.
pub fn short_revision(rev: &str) -> String {
    match rev.strip_prefix("local:") {
        Some(h) => format!("local:{}", &h[..h.len().min(12)]),
        None if rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit()) => rev[..7].to_string(),
        None => rev.to_string(),
    }
}

/// Columns padded like kubectl's tables (three spaces between columns).
pub fn write_table<W: Write>(out: &mut W, rows: &[Vec<String>]) -> io::Result<()> {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> =
        (0..cols).map(|i| rows.iter().filter_map(|r| r.get(i)).map(|c| c.chars().count()).max().unwrap_or(0)).collect();
    for r in rows {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            if i + 1 < r.len() {
                line.push_str(&format!("{c:<w$}   ", w = widths[i]));
            } else {
                line.push_str(c);
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// The text form of a status (`wide`: one line per object too).
pub fn write_status<W: Write>(out: &mut W, s: &AppStatus, wide: bool) -> io::Result<()> {
    let deployed = s.deployed_revision.as_deref().map_or("<none>".to_string(), short_revision);
    let current = if s.deployed_revision.as_deref() == Some(s.source_revision.as_str()) {
        " (deployed)".to_string()
    } else {
        " (not deployed)".to_string()
    };
    let health_counts: Vec<String> = s.counts.health.iter().map(|(k, v)| format!("{k} {v}")).collect();
    writeln!(out, "App:          {}", s.app)?;
    writeln!(out, "Namespace:    {}", s.namespace)?;
    writeln!(out, "Sync Status:  {}", s.sync)?;
    writeln!(out, "Health:       {}", s.health)?;
    writeln!(out, "Deployed:     {deployed}")?;
    writeln!(out, "Source:       {}{current}", short_revision(&s.source_revision))?;
    if let Some(e) = &s.last_sync {
        writeln!(out, "Last Sync:    {} {} by {} ({})", e.id, e.deployed_at, e.user, e.result)?;
    }
    writeln!(
        out,
        "Objects:      {} ({} out of sync{}{})",
        s.counts.objects,
        s.counts.out_of_sync,
        if health_counts.is_empty() { "" } else { "; " },
        health_counts.join(", ")
    )?;
    if wide {
        writeln!(out)?;
        let mut rows =
            vec![["GROUP", "KIND", "NAMESPACE", "NAME", "STATUS", "HEALTH", "MESSAGE"].map(String::from).to_vec()];
        for o in &s.objects {
            rows.push(vec![
                o.group.clone(),
                o.kind.clone(),
                o.namespace.clone(),
                o.name.clone(),
                o.sync.to_string(),
                o.health.map_or("", HealthStatus::as_str).to_string(),
                o.message.clone(),
            ]);
        }
        write_table(out, &rows)?;
    }
    Ok(())
}

/// The `history` table.
pub fn write_history<W: Write>(out: &mut W, entries: &[HistoryEntry]) -> io::Result<()> {
    let mut rows = vec![["ID", "DEPLOYED AT", "REVISION", "TOOL", "USER", "RESULT"].map(String::from).to_vec()];
    for e in entries {
        rows.push(vec![
            e.id.to_string(),
            e.deployed_at.clone(),
            short_revision(&e.source.revision),
            e.source.tool.clone(),
            e.user.clone(),
            e.result.clone(),
        ]);
    }
    write_table(out, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_pad_columns_and_shorten_revisions() {
        let mut out = Vec::new();
        write_table(&mut out, &[vec!["ID".into(), "X".into()], vec!["10".into(), "long value".into()]]).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "ID   X\n10   long value\n");
        assert_eq!(short_revision(&format!("local:{}", "ab".repeat(32))), "local:abababababab");
        assert_eq!(short_revision(&"0123456789".repeat(4)), "0123456");
        assert_eq!(short_revision("main"), "main");
    }
}
