//! How a many-app run is printed: every app reported on its own (a table
//! row, a diff section with a header line, a summary line prefixed with its
//! context), in selection order; `-o json` is an array with one item per app
//! (`app`, `context`, `server`, `file`, `state`: `ok`/`failed`/`unreachable`,
//! `error`, and the command's own fields). Errors and the contexts that did
//! not answer are listed on stderr at the end.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::cli::{DiffFormat, StatusFormat, SyncFormat};
use crate::diff::Action;
use crate::error::{Error, Result};
use crate::fleet::{Member, Outcome, Unreachable};
use crate::status::{AppStatus, short_revision, write_table};
use crate::sync::SyncReport;
use crate::usecase::DiffReport;

/// `Unknown`: the sync status or health of an app whose cluster could not tell.
pub const UNKNOWN: &str = "Unknown";

fn stdout_err(e: io::Error) -> Error {
    Error::io("<stdout>", e)
}

/// The item of app `m` in a JSON array: who and where, then `fields`.
fn item<T: Serialize>(m: &Member, outcome: &Outcome<T>, down: &[Unreachable]) -> Value {
    let mut v = Map::new();
    v.insert("app".into(), json!(m.app.name));
    v.insert("context".into(), json!(m.context_label()));
    if let Some(s) = &m.server.url {
        v.insert("server".into(), json!(s));
    }
    v.insert("file".into(), json!(m.app.file));
    let (state, error) = match outcome {
        Outcome::Done(_) => ("ok", None),
        Outcome::Failed(e) => ("failed", Some(e.clone())),
        Outcome::Unreachable => ("unreachable", Some(reason(m, down))),
    };
    v.insert("state".into(), json!(state));
    if let Some(e) = error {
        v.insert("error".into(), json!(e));
    }
    if let Outcome::Done(t) = outcome
        && let Ok(Value::Object(fields)) = serde_json::to_value(t)
    {
        for (k, val) in fields {
            // The command's own `error` (a sync that failed half-way) is the app's error.
            if k == "error" {
                v.insert("state".into(), json!("failed"));
            }
            v.insert(k, val);
        }
    }
    Value::Object(v)
}

/// Why `m`'s context did not answer.
fn reason(m: &Member, down: &[Unreachable]) -> String {
    down.iter()
        .find(|u| u.context == m.context_label())
        .map_or_else(|| "the cluster did not answer".to_string(), |u| u.line())
}

/// Failed apps, then unreachable contexts, on stderr.
fn trailer<T>(members: &[Member], outcomes: &[Outcome<T>], down: &[Unreachable], extra: &[(usize, String)]) {
    let mut err = io::stderr().lock();
    for (m, o) in members.iter().zip(outcomes) {
        if let Outcome::Failed(e) = o {
            let _ = writeln!(err, "error: app {} (context {}): {e}", m.app.name, m.context_label());
        }
    }
    for (i, e) in extra {
        let m = &members[*i];
        let _ = writeln!(err, "error: app {} (context {}): {e}", m.app.name, m.context_label());
    }
    for u in down {
        let _ = writeln!(err, "{}", u.line());
    }
}

/// `status`: the table (`wide`: each app's objects under it), or the JSON array.
pub fn status(
    members: &[Member],
    outcomes: &[Outcome<AppStatus>],
    down: &[Unreachable],
    format: StatusFormat,
) -> Result<()> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    if format == StatusFormat::Json {
        let items: Vec<Value> = members.iter().zip(outcomes).map(|(m, o)| status_item(m, o, down)).collect();
        crate::output::write_json(&mut out, &items).map_err(stdout_err)?;
    } else {
        let rows = status_rows(members, outcomes, format == StatusFormat::Wide);
        write_table(&mut out, &rows).map_err(stdout_err)?;
    }
    out.flush().map_err(stdout_err)?;
    trailer(members, outcomes, down, &[]);
    Ok(())
}

fn status_item(m: &Member, o: &Outcome<AppStatus>, down: &[Unreachable]) -> Value {
    let mut v = item(m, o, down);
    if !matches!(o, Outcome::Done(_)) {
        v["sync"] = json!(UNKNOWN);
        v["health"] = json!(UNKNOWN);
        v["sourceRevision"] = json!(m.source_commit());
    }
    v
}

/// The status table's rows, header first.
pub fn status_rows(members: &[Member], outcomes: &[Outcome<AppStatus>], wide: bool) -> Vec<Vec<String>> {
    let mut header: Vec<String> =
        ["APP", "CONTEXT", "NAMESPACE", "SYNC", "HEALTH", "DEPLOYED", "SOURCE", "OBJECTS"].map(String::from).into();
    if wide {
        header.push("MESSAGE".into());
    }
    let mut rows = vec![header];
    for (m, o) in members.iter().zip(outcomes) {
        let dash = || "-".to_string();
        let mut row = match o {
            Outcome::Done(s) => vec![
                m.app.name.clone(),
                m.context_label().to_string(),
                s.namespace.clone(),
                s.sync.to_string(),
                s.health.to_string(),
                s.deployed_revision.as_deref().map_or_else(|| "<none>".to_string(), short_revision),
                short_revision(&s.source_revision),
                format!("{} ({} out of sync)", s.counts.objects, s.counts.out_of_sync),
            ],
            _ => vec![
                m.app.name.clone(),
                m.context_label().to_string(),
                m.destination_namespace().unwrap_or_else(dash),
                UNKNOWN.into(),
                UNKNOWN.into(),
                dash(),
                m.source_commit().map_or_else(dash, short_revision),
                dash(),
            ],
        };
        if wide {
            row.push(match o {
                Outcome::Done(_) => String::new(),
                Outcome::Failed(e) => e.lines().next().unwrap_or_default().to_string(),
                Outcome::Unreachable => "cluster unreachable".into(),
            });
        }
        rows.push(row);
        if let (true, Outcome::Done(s)) = (wide, o) {
            for obj in &s.objects {
                let kind = if obj.group.is_empty() { obj.kind.clone() } else { format!("{}.{}", obj.kind, obj.group) };
                rows.push(vec![
                    format!("  {kind}/{}", obj.name),
                    String::new(),
                    obj.namespace.clone(),
                    obj.sync.to_string(),
                    obj.health.map_or("", |h| h.as_str()).to_string(),
                    String::new(),
                    String::new(),
                    String::new(),
                    obj.message.clone(),
                ]);
            }
        }
    }
    rows
}

/// `diff`: per app a header line and its diffs (or the JSON array). Returns,
/// per app, whether a `KUBECTL_EXTERNAL_DIFF` program failed on it.
pub fn diff(
    members: &[Member],
    outcomes: &[Outcome<DiffReport>],
    down: &[Unreachable],
    format: DiffFormat,
    color: bool,
) -> Result<Vec<bool>> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut external_failed = vec![false; members.len()];
    let mut extra = Vec::new();
    match format {
        DiffFormat::Json => {
            let items: Vec<Value> = members
                .iter()
                .zip(outcomes)
                .map(|(m, o)| {
                    let mut v = item(m, &Outcome::<()>::from_ref(o), down);
                    if let Outcome::Done(d) = o {
                        v["namespace"] = json!(d.namespace);
                        v["changed"] = json!(d.changed());
                        v["items"] = serde_json::to_value(&d.diffs).expect("diffs serialize");
                    }
                    v
                })
                .collect();
            crate::output::write_json(&mut out, &items).map_err(stdout_err)?;
        }
        DiffFormat::Text => {
            let external = std::env::var("KUBECTL_EXTERNAL_DIFF").ok().filter(|p| !p.trim().is_empty());
            for (i, (m, o)) in members.iter().zip(outcomes).enumerate() {
                writeln!(out, "{}", diff_header(m, o)).map_err(stdout_err)?;
                let Outcome::Done(d) = o else { continue };
                if d.changed() == 0 {
                    continue;
                }
                if let Some(program) = &external {
                    out.flush().map_err(stdout_err)?;
                    match crate::external_diff::run(program, &d.diffs) {
                        Ok(code) if code <= 1 => {}
                        Ok(code) => {
                            external_failed[i] = true;
                            extra.push((i, format!("external diff program exited with {code}")));
                        }
                        Err(e) => {
                            external_failed[i] = true;
                            extra.push((i, e.to_string()));
                        }
                    }
                    continue;
                }
                for diff in d.diffs.iter().filter(|d| d.action != Action::None) {
                    let text = if color { crate::diff::colorize(&diff.diff) } else { diff.diff.clone() };
                    out.write_all(text.as_bytes()).map_err(stdout_err)?;
                }
            }
        }
    }
    out.flush().map_err(stdout_err)?;
    trailer(members, outcomes, down, &extra);
    Ok(external_failed)
}

/// `=== app web (context east, namespace web): 2 objects differ`.
pub fn diff_header(m: &Member, o: &Outcome<DiffReport>) -> String {
    let what = match o {
        Outcome::Done(d) => {
            let where_ = format!("context {}, namespace {}", m.context_label(), d.namespace);
            return match d.changed() {
                0 => format!("=== app {} ({where_}): no differences", m.app.name),
                1 => format!("=== app {} ({where_}): 1 object differs", m.app.name),
                n => format!("=== app {} ({where_}): {n} objects differ", m.app.name),
            };
        }
        Outcome::Failed(e) => format!("error: {}", e.lines().next().unwrap_or_default()),
        Outcome::Unreachable => "cluster unreachable".to_string(),
    };
    format!("=== app {} (context {}): {what}", m.app.name, m.context_label())
}

/// `sync`: per app its summary line prefixed with the context (or the JSON array).
pub fn sync(
    members: &[Member],
    outcomes: &[Outcome<SyncReport>],
    down: &[Unreachable],
    format: SyncFormat,
) -> Result<()> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut extra = Vec::new();
    match format {
        SyncFormat::Json => {
            let items: Vec<Value> = members.iter().zip(outcomes).map(|(m, o)| item(m, o, down)).collect();
            crate::output::write_json(&mut out, &items).map_err(stdout_err)?;
        }
        SyncFormat::Text => {
            for (m, o) in members.iter().zip(outcomes) {
                writeln!(out, "{}", sync_line(m, o)).map_err(stdout_err)?;
            }
        }
    }
    for (i, o) in outcomes.iter().enumerate() {
        if let Outcome::Done(SyncReport { error: Some(e), .. }) = o {
            extra.push((i, format!("sync failed: {e}")));
        }
    }
    out.flush().map_err(stdout_err)?;
    trailer(members, outcomes, down, &extra);
    Ok(())
}

/// `[east] sync web: 1 created, ...`, `[west] sync api: cluster unreachable`.
pub fn sync_line(m: &Member, o: &Outcome<SyncReport>) -> String {
    let ctx = m.context_label();
    match o {
        Outcome::Done(r) if r.error.is_some() => format!("[{ctx}] {} (failed)", r.summary_line()),
        Outcome::Done(r) => format!("[{ctx}] {}", r.summary_line()),
        Outcome::Failed(e) => format!("[{ctx}] sync {}: failed: {}", m.app.name, e.lines().next().unwrap_or_default()),
        Outcome::Unreachable => format!("[{ctx}] sync {}: cluster unreachable", m.app.name),
    }
}

impl Outcome<()> {
    /// The same outcome without its value (for the shared JSON fields).
    fn from_ref<T>(o: &Outcome<T>) -> Outcome<()> {
        match o {
            Outcome::Done(_) => Outcome::Done(()),
            Outcome::Failed(e) => Outcome::Failed(e.clone()),
            Outcome::Unreachable => Outcome::Unreachable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{ObjectStatus, StatusCounts};

    fn member(name: &str, context: Option<&str>) -> Member {
        crate::fleet::tests::member(name, context, "https://127.0.0.1:1")
    }

    fn app_status() -> AppStatus {
        AppStatus {
            app: "web".into(),
            namespace: "web-ns".into(),
            sync: crate::status::SyncStatus::OutOfSync,
            health: crate::health::HealthStatus::Healthy,
            deployed_revision: Some("a".repeat(40)),
            source_revision: "b".repeat(40),
            last_sync: None,
            counts: StatusCounts { objects: 2, out_of_sync: 1, health: Default::default() },
            objects: vec![ObjectStatus {
                group: "apps".into(),
                kind: "Deployment".into(),
                namespace: "web-ns".into(),
                name: "web".into(),
                sync: crate::status::SyncStatus::OutOfSync,
                health: Some(crate::health::HealthStatus::Healthy),
                message: String::new(),
            }],
        }
    }

    #[test]
    fn status_rows_per_app_and_objects_under_them() {
        let members = [member("web", Some("east")), member("api", Some("west"))];
        let outcomes = [Outcome::Done(app_status()), Outcome::Unreachable];
        let rows = status_rows(&members, &outcomes, false);
        assert_eq!(rows[0], ["APP", "CONTEXT", "NAMESPACE", "SYNC", "HEALTH", "DEPLOYED", "SOURCE", "OBJECTS"]);
        assert_eq!(
            rows[1],
            ["web", "east", "web-ns", "OutOfSync", "Healthy", "aaaaaaa", "bbbbbbb", "2 (1 out of sync)"]
        );
        assert_eq!(rows[2], ["api", "west", "api-ns", "Unknown", "Unknown", "-", "-", "-"]);
        let wide = status_rows(&members, &outcomes, true);
        assert_eq!(wide.len(), 4);
        assert_eq!(wide[2][0], "  Deployment.apps/web");
        assert_eq!(wide[2][3], "OutOfSync");
        assert_eq!(wide[3][8], "cluster unreachable");
    }

    #[test]
    fn headers_and_summary_lines_name_app_and_context() {
        let web = member("web", Some("east"));
        let diff = DiffReport { namespace: "web-ns".into(), diffs: Vec::new(), shared: Vec::new() };
        assert_eq!(
            diff_header(&web, &Outcome::Done(diff)),
            "=== app web (context east, namespace web-ns): no differences"
        );
        assert_eq!(diff_header(&web, &Outcome::Unreachable), "=== app web (context east): cluster unreachable");
        assert_eq!(
            diff_header(&web, &Outcome::Failed("forbidden\nmore".into())),
            "=== app web (context east): error: forbidden"
        );
        let pod = member("web", None);
        let report = SyncReport { app: "web".into(), ..Default::default() };
        assert_eq!(
            sync_line(&pod, &Outcome::Done(report.clone())),
            "[in-cluster] sync web: 0 created, 0 configured, 0 unchanged, 0 pruned, 0 failed"
        );
        let failed = SyncReport { error: Some("timed out".into()), ..report };
        assert!(sync_line(&web, &Outcome::Done(failed)).ends_with("0 failed (failed)"));
        assert_eq!(sync_line(&web, &Outcome::Unreachable), "[east] sync web: cluster unreachable");
    }

    #[test]
    fn json_items_say_where_and_how_it_went() {
        let web = member("web", Some("east"));
        let down = [Unreachable { context: "east".into(), server: None, reason: "refused".into() }];
        let v = status_item(&web, &Outcome::Unreachable, &down);
        assert_eq!(v["state"], "unreachable");
        assert_eq!(v["error"], "unreachable: context east: refused");
        assert_eq!((v["sync"].as_str(), v["health"].as_str()), (Some("Unknown"), Some("Unknown")));
        assert_eq!(v["file"], "apps/web.yaml:1");
        let v = item(&web, &Outcome::Done(SyncReport { error: Some("boom".into()), ..Default::default() }), &down);
        assert_eq!((v["state"].as_str(), v["error"].as_str()), (Some("failed"), Some("boom")));
        let v = status_item(&web, &Outcome::Done(app_status()), &down);
        assert_eq!(
            (v["state"].as_str(), v["sync"].as_str(), v["context"].as_str()),
            (Some("ok"), Some("OutOfSync"), Some("east"))
        );
    }
}
