//! Field specs: which fields of which kinds a built-in transformer touches
//! (`fieldspecs.tsv`, kustomize v5.5's defaults), and walking a spec's path
//! through an object, creating maps where the spec says so.

use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::kustomization::FieldSpec;
use super::resource::split_api_version;

/// A group/version/kind selector; empty parts match anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GvkSel {
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl GvkSel {
    fn parse(s: &str) -> GvkSel {
        let mut it = s.rsplitn(3, '/');
        let kind = it.next().unwrap_or("-");
        let version = it.next().unwrap_or("-");
        let group = it.next().unwrap_or("-");
        let f = |x: &str| if x == "-" { String::new() } else { x.to_string() };
        GvkSel { group: f(group), version: f(version), kind: f(kind) }
    }

    pub fn matches(&self, group: &str, version: &str, kind: &str) -> bool {
        (self.kind.is_empty() || self.kind == kind)
            && (self.group.is_empty() || self.group == group)
            && (self.version.is_empty() || self.version == version)
    }

    pub fn matches_obj(&self, data: &Map<String, Value>) -> bool {
        let (g, v) = split_api_version(data.get("apiVersion").and_then(Value::as_str).unwrap_or(""));
        self.matches(g, v, data.get("kind").and_then(Value::as_str).unwrap_or(""))
    }
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub gvk: GvkSel,
    pub path: Vec<String>,
    pub path_text: String,
    pub create: bool,
}

impl Spec {
    pub fn from_user(fs: &FieldSpec) -> Spec {
        Spec {
            gvk: GvkSel { group: fs.group.clone(), version: fs.version.clone(), kind: fs.kind.clone() },
            path: split_path(&fs.path),
            path_text: fs.path.clone(),
            create: fs.create,
        }
    }
}

/// A name reference: fields (`specs`) of referrers that name a `referral`.
#[derive(Debug, Clone)]
pub struct NameRef {
    pub referral: GvkSel,
    pub specs: Vec<Spec>,
}

#[derive(Debug, Clone, Default)]
pub struct Defaults {
    pub common_labels: Vec<Spec>,
    pub template_labels: Vec<Spec>,
    pub common_annotations: Vec<Spec>,
    pub namespace: Vec<Spec>,
    pub images: Vec<Spec>,
    pub replicas: Vec<Spec>,
    pub name_refs: Vec<NameRef>,
    pub name_prefix: Vec<Spec>,
    pub name_suffix: Vec<Spec>,
    pub var_reference: Vec<Spec>,
    /// Extra fields for every `labels` entry (none by default).
    pub labels: Vec<Spec>,
}

/// Split a field path on `/`, keeping `[...]` groups whole.
pub fn split_path(p: &str) -> Vec<String> {
    split_path_on(p, '/')
}

/// Split a field path on `sep` (`/` for field specs, `.` for replacements),
/// keeping `[...]` groups whole.
pub fn split_path_on(p: &str, sep: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0;
    for c in p.chars() {
        match c {
            '[' => {
                depth += 1;
                cur.push(c)
            }
            ']' => {
                depth -= 1;
                cur.push(c)
            }
            c if c == sep && depth == 0 => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

pub fn defaults() -> &'static Defaults {
    static D: OnceLock<Defaults> = OnceLock::new();
    D.get_or_init(|| {
        let mut d = Defaults::default();
        for line in include_str!("fieldspecs.tsv").lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            let spec = |gvk: &str, path: &str, create: bool| Spec {
                gvk: GvkSel::parse(gvk),
                path: split_path(path),
                path_text: path.to_string(),
                create,
            };
            if cols[0] == "nameReference" {
                let referral = GvkSel::parse(cols[1]);
                let s = spec(cols[2], cols[3], false);
                match d.name_refs.iter_mut().find(|n| n.referral == referral) {
                    Some(n) => n.specs.push(s),
                    None => d.name_refs.push(NameRef { referral, specs: vec![s] }),
                }
                continue;
            }
            let s = spec(cols[1], cols[2], cols.get(3) == Some(&"create"));
            match cols[0] {
                "commonLabels" => d.common_labels.push(s),
                "templateLabels" => d.template_labels.push(s),
                "commonAnnotations" => d.common_annotations.push(s),
                "namespace" => d.namespace.push(s),
                "images" => d.images.push(s),
                "replicas" => d.replicas.push(s),
                "namePrefix" => d.name_prefix.push(s),
                "nameSuffix" => d.name_suffix.push(s),
                "varReference" => d.var_reference.push(s),
                _ => {}
            }
        }
        d
    })
}

/// What to create at the end of a path when it is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Create {
    Nothing,
    Map,
    Scalar,
}

/// Visit the node(s) at `path` in `v`, creating intermediate maps (and the
/// last node as `last`) when `create` is set. Lists along the way are
/// traversed element by element; `name[]` marks a list field that is never
/// created. `f` gets the final node (possibly `Null` when just created as a
/// scalar placeholder).
pub fn visit(
    v: &mut Value,
    path: &[String],
    create: bool,
    last: Create,
    f: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    if path.is_empty() {
        return f(v);
    }
    match v {
        Value::Null => Ok(()),
        Value::Array(items) => {
            for item in items {
                visit(item, path, create, last, f)?;
            }
            Ok(())
        }
        Value::Object(m) => {
            let (name, is_seq) = match path[0].strip_suffix("[]") {
                Some(n) => (n, true),
                None => (path[0].as_str(), false),
            };
            if name.is_empty() {
                return Err("cannot set or create an empty field name".into());
            }
            let can_create = create && !is_seq && last != Create::Nothing;
            if !m.contains_key(name) {
                if !can_create {
                    return Ok(());
                }
                let fresh =
                    if path.len() == 1 && last == Create::Scalar { Value::Null } else { Value::Object(Map::new()) };
                m.insert(name.to_string(), fresh);
            }
            let Some(child) = m.get_mut(name) else { return Ok(()) };
            if child.is_null() && can_create && !(path.len() == 1 && last == Create::Scalar) {
                *child = Value::Object(Map::new());
            }
            if child.is_null() && !(path.len() == 1 && can_create) {
                return Ok(());
            }
            visit(child, &path[1..], create, last, f)
        }
        _ => Err(format!("expected sequence or mapping node at {}", path.join("/"))),
    }
}
