//! What a sync did (or, with `--dry-run`, would do), object by object, and
//! the summary counts. Serializable for `-o json`.

use std::fmt::Write as _;

use serde::Serialize;

use crate::model::ObjectKey;

/// What happened to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Created,
    Configured,
    Unchanged,
    Pruned,
    /// A prune candidate that stays (Prune=false, a Namespace in use, no --prune, an object shared with another app).
    Kept,
    /// Removed by garbage collection with a pruned object.
    Cascading,
    /// A hook deleted by its delete policy.
    Deleted,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Configured => "configured",
            Outcome::Unchanged => "unchanged",
            Outcome::Pruned => "pruned",
            Outcome::Kept => "kept",
            Outcome::Cascading => "cascading",
            Outcome::Deleted => "deleted",
            Outcome::Failed => "failed",
        }
    }
}

/// One object's line in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
}

impl Entry {
    pub fn new(key: &ObjectKey, outcome: Outcome, message: impl Into<String>) -> Entry {
        Entry {
            group: key.group.clone(),
            kind: key.kind.clone(),
            namespace: key.namespace.clone(),
            name: key.name.clone(),
            outcome,
            message: message.into(),
        }
    }

    /// `Deployment.apps ns/name` (kubectl-like).
    pub fn label(&self) -> String {
        let kind = if self.group.is_empty() { self.kind.clone() } else { format!("{}.{}", self.kind, self.group) };
        if self.namespace.is_empty() {
            format!("{kind} {}", self.name)
        } else {
            format!("{kind} {}/{}", self.namespace, self.name)
        }
    }

    /// One progress/report line.
    pub fn line(&self, dry_run: bool) -> String {
        let suffix =
            if dry_run && !matches!(self.outcome, Outcome::Unchanged | Outcome::Kept) { " (dry run)" } else { "" };
        let mut s = format!("{} {}{suffix}", self.label(), self.outcome.as_str());
        if !self.message.is_empty() {
            let _ = write!(s, ": {}", self.message);
        }
        s
    }
}

/// Counts per outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub created: usize,
    pub configured: usize,
    pub unchanged: usize,
    pub pruned: usize,
    pub kept: usize,
    pub cascading: usize,
    pub failed: usize,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The whole report.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    pub app: String,
    pub applyset_id: String,
    pub parent: String,
    pub dry_run: bool,
    /// Whether the ApplySet parent was written.
    pub parent_written: bool,
    pub objects: Vec<Entry>,
    pub summary: Counts,
    /// Cascading deletions counted in `summary.cascading` but not listed in
    /// `objects` (the objects of a pruned CRD's kind beyond the first page).
    #[serde(skip_serializing_if = "is_zero")]
    pub cascading_unlisted: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl SyncReport {
    pub fn push(&mut self, e: Entry) {
        let c = &mut self.summary;
        match e.outcome {
            Outcome::Created => c.created += 1,
            Outcome::Configured => c.configured += 1,
            Outcome::Unchanged => c.unchanged += 1,
            Outcome::Pruned => c.pruned += 1,
            Outcome::Kept => c.kept += 1,
            Outcome::Cascading => c.cascading += 1,
            Outcome::Failed => c.failed += 1,
            Outcome::Deleted => {}
        }
        self.objects.push(e);
    }

    /// Count `n` cascading deletions that are not listed one by one.
    pub fn add_unlisted_cascading(&mut self, n: u64) {
        self.cascading_unlisted += n;
        self.summary.cascading = self.summary.cascading.saturating_add(usize::try_from(n).unwrap_or(usize::MAX));
    }

    /// `sync web: 2 created, 1 configured, 7 unchanged, 1 pruned, 0 failed`.
    pub fn summary_line(&self) -> String {
        let c = &self.summary;
        let mut s = format!(
            "sync {}{}: {} created, {} configured, {} unchanged, {} pruned, {} failed",
            self.app,
            if self.dry_run { " (dry run)" } else { "" },
            c.created,
            c.configured,
            c.unchanged,
            c.pruned,
            c.failed
        );
        if c.kept > 0 {
            let _ = write!(s, ", {} kept", c.kept);
        }
        if c.cascading > 0 {
            let _ = write!(s, ", {} cascading", c.cascading);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_lines() {
        let mut r = SyncReport { app: "web".into(), ..Default::default() };
        let k = ObjectKey::new("apps", "Deployment", "ns", "d");
        r.push(Entry::new(&k, Outcome::Created, ""));
        r.push(Entry::new(&ObjectKey::new("", "Namespace", "", "ns"), Outcome::Pruned, ""));
        r.push(Entry::new(&k, Outcome::Cascading, "owned by X"));
        assert_eq!(r.summary_line(), "sync web: 1 created, 0 configured, 0 unchanged, 1 pruned, 0 failed, 1 cascading");
        assert_eq!(r.objects[0].line(true), "Deployment.apps ns/d created (dry run)");
        assert_eq!(r.objects[1].line(false), "Namespace ns pruned");
    }
}
