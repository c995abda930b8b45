//! `kubectl gitops apps`: one row per Application, as a table (`-o wide`
//! adds columns) or as JSON/YAML.

use std::io::{self, Write};

use serde_json::Value;

use super::Application;
use crate::output::write_json;
use crate::source::git::redact_url;
use crate::yaml::to_yaml_string;

/// `-o` formats of `apps`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AppsFormat {
    /// Columns NAME, PROJECT, REPO, REVISION, PATH, DESTINATION, NAMESPACE, TOOL.
    #[default]
    Table,
    /// The table plus SYNC, CONTEXT, COMMIT and FILE.
    Wide,
    /// A JSON array of the parsed Applications (plus `tool` and `commit`).
    Json,
    /// The same as YAML.
    Yaml,
}

/// One Application with what was found out about it.
#[derive(Debug, Clone)]
pub struct AppRow {
    pub app: Application,
    /// The detected tool (see [`super::AppSource::tool_name`]).
    pub tool: String,
    /// The resolved commit, when the source was resolved.
    pub commit: Option<String>,
    /// The kubeconfig context the destination resolves to (`in-cluster`: the pod's config).
    pub context: Option<String>,
}

fn sync_summary(app: &Application) -> String {
    match app.sync_policy.as_ref().and_then(|p| p.automated.as_ref()) {
        Some(a) if a.enabled => {
            let mut s = vec!["Auto"];
            if a.prune {
                s.push("Prune");
            }
            if a.self_heal {
                s.push("SelfHeal");
            }
            s.join("-")
        }
        _ => "Manual".into(),
    }
}

fn cells(row: &AppRow, wide: bool) -> Vec<String> {
    let app = &row.app;
    let (repo, revision, path) = match (&app.source, app.sources.first()) {
        (Some(s), _) | (None, Some(s)) => {
            let more = if app.sources.len() > 1 { format!(" (+{})", app.sources.len() - 1) } else { String::new() };
            let path = s.chart.as_ref().map_or_else(|| s.path.clone(), |c| format!("chart:{c}"));
            (format!("{}{more}", redact_url(&s.repo_url)), s.target_revision.clone(), path)
        }
        (None, None) => ("-".into(), "-".into(), "-".into()),
    };
    let dash = |s: String| if s.is_empty() { "-".to_string() } else { s };
    let mut c = vec![
        app.name.clone(),
        app.project.clone(),
        repo,
        revision,
        dash(path),
        app.destination.cluster().to_string(),
        dash(app.destination.namespace.clone().unwrap_or_default()),
        row.tool.clone(),
    ];
    if wide {
        c.push(sync_summary(app));
        c.push(row.context.clone().unwrap_or_else(|| "-".into()));
        c.push(row.commit.clone().unwrap_or_else(|| "-".into()));
        c.push(app.file.clone());
    }
    c
}

/// Print the rows in `format`.
pub fn write_apps<W: Write>(out: &mut W, rows: &[AppRow], format: AppsFormat) -> io::Result<()> {
    match format {
        AppsFormat::Table | AppsFormat::Wide => {
            let wide = format == AppsFormat::Wide;
            let mut header: Vec<String> =
                ["NAME", "PROJECT", "REPO", "REVISION", "PATH", "DESTINATION", "NAMESPACE", "TOOL"]
                    .map(String::from)
                    .into();
            if wide {
                header.extend(["SYNC", "CONTEXT", "COMMIT", "FILE"].map(String::from));
            }
            let table: Vec<Vec<String>> = std::iter::once(header).chain(rows.iter().map(|r| cells(r, wide))).collect();
            let widths: Vec<usize> =
                (0..table[0].len()).map(|i| table.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
            for r in &table {
                let last = r.len() - 1;
                let line: Vec<String> = r
                    .iter()
                    .enumerate()
                    .map(|(i, c)| if i == last { c.clone() } else { format!("{c:<w$}", w = widths[i]) })
                    .collect();
                writeln!(out, "{}", line.join("   "))?;
            }
            Ok(())
        }
        AppsFormat::Json | AppsFormat::Yaml => {
            let items: Vec<Value> = rows.iter().map(as_value).collect();
            if format == AppsFormat::Json {
                write_json(out, &items)
            } else {
                out.write_all(to_yaml_string(&Value::Array(items)).as_bytes())
            }
        }
    }
}

fn as_value(row: &AppRow) -> Value {
    let mut v = serde_json::to_value(&row.app).unwrap_or(Value::Null);
    let redact = |s: &mut Value| {
        if let Some(Value::String(u)) = s.get_mut("repoURL") {
            *u = redact_url(u);
        }
    };
    if let Some(obj) = v.as_object_mut() {
        if let Some(src) = obj.get_mut("source") {
            redact(src);
        }
        if let Some(Value::Array(srcs)) = obj.get_mut("sources") {
            srcs.iter_mut().for_each(redact);
        }
        obj.insert("tool".into(), Value::String(row.tool.clone()));
        if let Some(c) = &row.commit {
            obj.insert("commit".into(), Value::String(c.clone()));
        }
        if let Some(c) = &row.context {
            obj.insert("context".into(), Value::String(c.clone()));
        }
    }
    v
}
