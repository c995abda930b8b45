//! A chart's `.Values`, built exactly as helm builds them.
//!
//! 1. [`user_values`]: `-f` files in order (multi-document files merge
//!    their documents), then by flag kind, whatever the command-line order:
//!    `--set-json`, `--set`, `--set-string`, `--set-file`, `--set-literal`.
//! 2. [`process_dependencies`]: `Chart.yaml` dependencies: aliases rename
//!    subcharts, `tags` and `condition` drop disabled ones, `import-values`
//!    copy child tables into the parent (the parent's own values win).
//! 3. [`coalesce_values`]: the user's values over the chart's defaults:
//!    maps merge, anything else replaces, a user `null` deletes a default,
//!    each subchart's defaults go under its name (or alias) and `global`
//!    flows from parent to subcharts.
//!
//! Number model (it decides how templates print numbers): values read from
//! YAML or JSON are float64 (`serde_json` f64) as in Go; integers inferred by
//! `--set` are int64 (`serde_json` i64).

use std::path::{Path, PathBuf};

use serde_json::{Map, Number, Value};

use super::load::{Chart, Dependency};
use super::strvals::{ValueKind, parse_into, parse_literal_into};
use crate::yaml::{Dialect, DuplicateKeys, parse_stream_with};

pub type Values = Map<String, Value>;

/// The user's values: files and `--set` flags (each list in command-line order).
#[derive(Debug, Clone, Default)]
pub struct ValueOptions {
    pub files: Vec<PathBuf>,
    pub set: Vec<String>,
    pub set_string: Vec<String>,
    pub set_file: Vec<String>,
    pub set_json: Vec<String>,
    pub set_literal: Vec<String>,
}

impl ValueOptions {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
            && self.set.is_empty()
            && self.set_string.is_empty()
            && self.set_file.is_empty()
            && self.set_json.is_empty()
            && self.set_literal.is_empty()
    }
}

/// Merge the user's values the way `helm template` does. Relative paths
/// (values files, `--set-file`) are taken from `cwd`.
pub fn user_values(opts: &ValueOptions, cwd: &Path) -> Result<Values, String> {
    let mut base = Values::new();
    for file in &opts.files {
        let path = cwd.join(file);
        let text = std::fs::read_to_string(&path).map_err(|e| format!("open {}: {e}", file.display()))?;
        let current = load_values_yaml(&text).map_err(|e| format!("failed to parse {}: {e}", file.display()))?;
        base = merge_maps(base, current);
    }
    for value in &opts.set_json {
        let trimmed = value.trim();
        if trimmed.starts_with('{') {
            let m: Values = serde_json::from_str(trimmed)
                .map_err(|e| format!("failed parsing --set-json data JSON: {value}: {e}"))?;
            let Value::Object(m) = numbers_to_f64(Value::Object(m)) else { unreachable!() };
            base = merge_maps(base, m);
        } else {
            parse_into(value, &mut base, ValueKind::Json)
                .map_err(|e| format!("failed parsing --set-json data {value}: {e}"))?;
        }
    }
    for value in &opts.set {
        parse_into(value, &mut base, ValueKind::Typed).map_err(|e| format!("failed parsing --set data: {e}"))?;
    }
    for value in &opts.set_string {
        parse_into(value, &mut base, ValueKind::String)
            .map_err(|e| format!("failed parsing --set-string data: {e}"))?;
    }
    let read = |p: &str| std::fs::read_to_string(cwd.join(p)).map_err(|e| format!("open {p}: {e}"));
    for value in &opts.set_file {
        parse_into(value, &mut base, ValueKind::File(&read))
            .map_err(|e| format!("failed parsing --set-file data: {e}"))?;
    }
    for value in &opts.set_literal {
        parse_literal_into(value, &mut base).map_err(|e| format!("failed parsing --set-literal data: {e}"))?;
    }
    Ok(base)
}

/// A values YAML text as helm reads it: YAML 1.1 (sigs.k8s.io/yaml), every
/// document a map merged over the previous ones, numbers float64.
pub fn load_values_yaml(text: &str) -> Result<Values, String> {
    let docs = parse_stream_with(text, Dialect::Kubectl, DuplicateKeys::LastWins).map_err(|e| e.to_string())?;
    let mut out = Values::new();
    for doc in docs {
        match numbers_to_f64(doc.value) {
            Value::Null => {}
            Value::Object(m) => out = merge_maps(out, m),
            other => {
                return Err(format!(
                    "line {}: a values document must be a map, found {}",
                    doc.line,
                    crate::model::type_name(&other)
                ));
            }
        }
    }
    Ok(out)
}

/// Every number as a float64, as Go's JSON decoding into `interface{}` makes it.
pub fn numbers_to_f64(v: Value) -> Value {
    match v {
        Value::Number(n) if !n.is_f64() => {
            n.as_f64().and_then(Number::from_f64).map_or(Value::Number(n), Value::Number)
        }
        Value::Array(a) => Value::Array(a.into_iter().map(numbers_to_f64).collect()),
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, numbers_to_f64(v))).collect()),
        other => other,
    }
}

/// Helm's `mergeMaps` for user values: maps merge recursively, anything else
/// (lists, scalars, null) replaces.
pub fn merge_maps(mut a: Values, b: Values) -> Values {
    for (k, v) in b {
        match (a.get_mut(&k), v) {
            (Some(Value::Object(av)), Value::Object(bv)) => {
                let merged = merge_maps(std::mem::take(av), bv);
                *av = merged;
            }
            (_, v) => {
                a.insert(k, v);
            }
        }
    }
    a
}

/// `.Values` of `chart` for the user's values (helm's `CoalesceValues`).
pub fn coalesce_values(chart: &Chart, user: &Values) -> Result<Values, String> {
    let mut dest = user.clone();
    coalesce(chart, &mut dest, "", false)?;
    Ok(dest)
}

/// Like [`coalesce_values`] but keeping nulls (helm's `MergeValues`).
fn merge_values(chart: &Chart, user: &Values) -> Result<Values, String> {
    let mut dest = user.clone();
    coalesce(chart, &mut dest, "", true)?;
    Ok(dest)
}

fn concat_prefix(a: &str, b: &str) -> String {
    if a.is_empty() { b.to_string() } else { format!("{a}.{b}") }
}

fn coalesce(chart: &Chart, dest: &mut Values, prefix: &str, merge: bool) -> Result<(), String> {
    coalesce_chart_values(chart, dest, prefix, merge);
    coalesce_deps(chart, dest, prefix, merge)
}

fn coalesce_deps(chart: &Chart, dest: &mut Values, prefix: &str, merge: bool) -> Result<(), String> {
    for sub in &chart.deps {
        let name = sub.name();
        let mut dv = match dest.remove(name) {
            None => Values::new(),
            Some(Value::Object(m)) => m,
            Some(other) => return Err(format!("type mismatch on {name}: {}", go_verb_t(&other))),
        };
        let sub_prefix = concat_prefix(prefix, chart.name());
        coalesce_globals(&mut dv, dest);
        coalesce(sub, &mut dv, &sub_prefix, merge)?;
        dest.insert(name.to_string(), Value::Object(dv));
    }
    Ok(())
}

/// How Go's `%t` prints a non-bool (helm puts it in the type-mismatch error).
fn go_verb_t(v: &Value) -> String {
    match v {
        Value::Null => "%!t(<nil>)".into(),
        Value::Bool(b) => b.to_string(),
        Value::String(s) => format!("%!t(string={s})"),
        Value::Number(n) if n.is_f64() => format!("%!t(float64={n})"),
        Value::Number(n) => format!("%!t(int64={n})"),
        Value::Array(_) => "%!t([]interface {}=...)".into(),
        Value::Object(_) => "%!t(map[string]interface {}=...)".into(),
    }
}

const GLOBAL: &str = "global";

/// Merge the globals of `src` (the parent) into `dest` (a subchart's values); the parent wins.
fn coalesce_globals(dest: &mut Values, src: &Values) {
    let mut dg = match dest.get(GLOBAL) {
        None => Values::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return,
    };
    let sg = match src.get(GLOBAL) {
        None => Values::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return,
    };
    for (key, val) in sg {
        match val {
            Value::Object(vv) => match dg.remove(&key) {
                None => {
                    dg.insert(key, Value::Object(vv));
                }
                Some(Value::Object(destv)) => {
                    let mut vv = vv;
                    coalesce_tables(&mut vv, destv, true);
                    dg.insert(key, Value::Object(vv));
                }
                Some(other) => {
                    dg.insert(key, other);
                }
            },
            val => {
                if !matches!(dg.get(&key), Some(Value::Object(_))) {
                    dg.insert(key, val);
                }
            }
        }
    }
    dest.insert(GLOBAL.into(), Value::Object(dg));
}

fn coalesce_chart_values(chart: &Chart, v: &mut Values, prefix: &str, merge: bool) {
    for (key, val) in chart.values.clone() {
        match v.get_mut(&key) {
            Some(Value::Null) if !merge => {
                v.remove(&key);
            }
            Some(Value::Object(dest)) => {
                if let Value::Object(mut src) = val {
                    let merge = merge || chart.deps.iter().any(|d| d.name() == key);
                    if !merge && !prefix.is_empty() {
                        clean_nil_values(&mut src);
                    }
                    coalesce_tables(dest, src, merge);
                }
            }
            Some(_) => {}
            None => {
                let mut val = val;
                if !merge && !prefix.is_empty() {
                    match &mut val {
                        Value::Null => continue,
                        Value::Object(m) => clean_nil_values(m),
                        _ => {}
                    }
                }
                v.insert(key, val);
            }
        }
    }
}

/// Helm's `coalesceTablesFullKey`: merge `src` under the authoritative `dst`.
pub fn coalesce_tables(dst: &mut Values, mut src: Values, merge: bool) {
    let src_non_nil: std::collections::HashSet<String> =
        src.iter().filter(|(_, v)| !v.is_null()).map(|(k, _)| k.clone()).collect();
    for (k, v) in dst.iter() {
        if v.is_null() {
            src.insert(k.clone(), Value::Null);
        }
    }
    for (key, val) in src {
        match dst.get_mut(&key) {
            Some(Value::Null) if !merge && src_non_nil.contains(&key) => {
                dst.remove(&key);
            }
            None => {
                dst.insert(key, val);
            }
            Some(Value::Object(dv)) => {
                if let Value::Object(sv) = val {
                    coalesce_tables(dv, sv, merge);
                }
            }
            Some(_) => {}
        }
    }
}

fn clean_nil_values(m: &mut Values) {
    m.retain(|_, v| !v.is_null());
    for v in m.values_mut() {
        if let Value::Object(sub) = v {
            clean_nil_values(sub);
        }
    }
}

/// Helm's `ProcessDependencies`: aliases, conditions, tags, import-values.
pub fn process_dependencies(chart: &mut Chart, user: &Values) -> Result<(), String> {
    process_enabled(chart, user, "")?;
    process_import_values_rec(chart)
}

fn path_value<'a>(v: &'a Values, path: &str) -> Option<&'a Value> {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop()?;
    let mut table = v;
    for p in parts {
        match table.get(p) {
            Some(Value::Object(m)) => table = m,
            _ => return None,
        }
    }
    table.get(last)
}

fn table<'a>(v: &'a Values, path: &str) -> Option<&'a Values> {
    let mut t = v;
    for p in path.split('.') {
        match t.get(p) {
            Some(Value::Object(m)) => t = m,
            _ => return None,
        }
    }
    Some(t)
}

fn process_enabled(c: &mut Chart, v: &Values, path: &str) -> Result<(), String> {
    let Some(reqs) = c.meta.dependencies.clone() else { return Ok(()) };
    let mut deps: Vec<Chart> = c
        .deps
        .iter()
        .filter(|existing| !reqs.iter().any(|r| r.name == existing.name() && r.matches_version(existing.version())))
        .cloned()
        .collect();
    let declared = reqs.clone();
    let mut reqs = reqs;
    // Declared but not in charts/ (matched by name, as helm's CheckDependencies).
    let missing: Vec<usize> = (0..reqs.len()).filter(|&i| !c.deps.iter().any(|d| d.name() == reqs[i].name)).collect();
    for req in &mut reqs {
        if let Some(found) = c.deps.iter().find(|d| d.name() == req.name && req.matches_version(d.version())) {
            let mut copy = found.clone();
            if !req.alias.is_empty() {
                copy.meta.name = req.alias.clone();
            }
            deps.push(copy);
        }
        if !req.alias.is_empty() {
            req.name = req.alias.clone();
        }
        req.enabled = true;
    }
    c.deps = deps;
    c.meta.dependencies = Some(reqs.clone());
    let cvals = coalesce_values(c, v)?;
    process_tags(&mut reqs, &cvals);
    process_conditions(&mut reqs, &cvals, path);
    check_missing(c, &declared, &reqs, &missing, path)?;
    let removed: Vec<String> = reqs.iter().filter(|r| !r.enabled).map(|r| r.name.clone()).collect();
    c.deps.retain(|d| !removed.iter().any(|n| n == d.name()));
    reqs.retain(|r| !removed.contains(&r.name));
    for t in &mut c.deps {
        let sub_path = format!("{path}{}.", t.name());
        process_enabled(t, &cvals, &sub_path)?;
    }
    c.meta.dependencies = Some(reqs);
    Ok(())
}

/// A declared dependency missing from `charts/`: an error when it is
/// enabled, a warning otherwise (see [`super::deps`]).
fn check_missing(
    c: &Chart,
    declared: &[Dependency],
    reqs: &[Dependency],
    missing: &[usize],
    path: &str,
) -> Result<(), String> {
    let lock = super::deps::lock(c);
    let out_of_sync = lock.as_ref().is_some_and(|l| super::deps::lock_out_of_sync(declared, l));
    let (enabled, disabled): (Vec<usize>, Vec<usize>) = missing.iter().partition(|&&i| reqs[i].enabled);
    let list = |ids: &[usize]| -> String {
        ids.iter()
            .map(|&i| {
                let d = &declared[i];
                let why =
                    c.fetch_failures.iter().find(|(n, _)| *n == d.name).map(|(_, m)| format!(": not fetched: {m}"));
                format!("{}{}", super::deps::describe(d, lock.as_ref()), why.unwrap_or_default())
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let within = if path.is_empty() { String::new() } else { format!(" (subchart {})", path.trim_end_matches('.')) };
    if !disabled.is_empty() {
        tracing::warn!(
            "chart {}{within}: disabled dependencies missing in charts/ directory: {} (helm template refuses such a chart; Argo CD fetches them)",
            c.display,
            list(&disabled)
        );
    }
    if !enabled.is_empty() {
        let lock_note = if out_of_sync {
            "; note: Chart.lock is out of sync with Chart.yaml (`helm dependency build` refuses it: run `helm dependency update`)"
        } else {
            ""
        };
        return Err(format!(
            "found in Chart.yaml, but missing in charts/ directory{within}: {}{lock_note}",
            list(&enabled)
        ));
    }
    if out_of_sync && path.is_empty() {
        tracing::warn!(
            "chart {}: the lock file (Chart.lock) is out of sync with the dependencies file (Chart.yaml): the charts in charts/ may not be what Chart.yaml asks for; run `helm dependency update`",
            c.display
        );
    }
    Ok(())
}

fn process_tags(reqs: &mut [Dependency], cvals: &Values) {
    let Some(Value::Object(tags)) = cvals.get("tags") else { return };
    for r in reqs {
        let (mut has_true, mut has_false) = (false, false);
        for k in &r.tags {
            match tags.get(k) {
                Some(Value::Bool(true)) => has_true = true,
                Some(Value::Bool(false)) => has_false = true,
                Some(other) => tracing::warn!("tag {k} of dependency {} is not a bool: {other}", r.name),
                None => {}
            }
        }
        // Disabled only when some tag is false and none is true.
        r.enabled = has_true || !has_false;
    }
}

fn process_conditions(reqs: &mut [Dependency], cvals: &Values, path: &str) {
    for r in reqs {
        for cond in r.condition.trim().split(',') {
            if cond.is_empty() {
                continue;
            }
            match path_value(cvals, &format!("{path}{cond}")) {
                Some(Value::Bool(b)) => {
                    r.enabled = *b;
                    break;
                }
                Some(other) => tracing::warn!("condition {cond} of dependency {} is not a bool: {other}", r.name),
                None => {}
            }
        }
    }
}

fn process_import_values_rec(c: &mut Chart) -> Result<(), String> {
    for d in &mut c.deps {
        process_import_values_rec(d)?;
    }
    let Some(reqs) = c.meta.dependencies.clone() else { return Ok(()) };
    let cvals = merge_values(c, &Values::new())?;
    let mut b = Values::new();
    for r in &reqs {
        for iv in &r.import_values {
            let (child, parent) = match iv {
                Value::Object(m) => (go_sprint(m.get("child")), go_sprint(m.get("parent"))),
                Value::String(s) => (format!("exports.{s}"), ".".to_string()),
                _ => continue,
            };
            let Some(vv) = table(&cvals, &format!("{}.{child}", r.name)) else {
                tracing::warn!("import-values: chart {} has no table {child}", r.name);
                continue;
            };
            coalesce_tables(&mut b, path_to_map(&parent, vv.clone()), true);
        }
    }
    let mut cvals = cvals;
    coalesce_tables(&mut cvals, b, true);
    c.values = cvals;
    Ok(())
}

fn go_sprint(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "<nil>".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn path_to_map(path: &str, data: Values) -> Values {
    if path == "." {
        return data;
    }
    let mut cur = data;
    for part in path.split('.').rev() {
        let mut m = Values::new();
        m.insert(part.to_string(), Value::Object(cur));
        cur = m;
    }
    cur
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_maps_merges_maps_and_replaces_lists() {
        let a = json!({"m": {"x": 1, "l": [1, 2]}, "s": 1});
        let b = json!({"m": {"y": 2, "l": [3]}, "s": null});
        let (Value::Object(a), Value::Object(b)) = (a, b) else { unreachable!() };
        assert_eq!(Value::Object(merge_maps(a, b)), json!({"m": {"x": 1, "y": 2, "l": [3]}, "s": null}));
    }

    #[test]
    fn yaml_numbers_are_floats() {
        let v = load_values_yaml("a: 1\n---\nb: 2\n").unwrap();
        assert!(v["a"].is_f64());
        assert_eq!(v.len(), 2);
        assert!(load_values_yaml("- 1\n").unwrap_err().contains("must be a map"));
    }
}
