//! One resource of a build with the bookkeeping kustomize keeps beside it:
//! the ids it had before renames (for name-reference fix-up), the name
//! prefixes/suffixes applied per layer, and generator state.

use serde_json::{Map, Value};

use crate::model::Object;
use crate::normalize::{Scope, builtin_scope};

/// How a generated object meets an existing one of the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behavior {
    Create,
    Merge,
    Replace,
}

/// A resource id as kustomize prints it: `Kind.version.group/name.namespace`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResId {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub name: String,
    pub namespace: String,
}

impl ResId {
    pub fn is_cluster_scoped(&self) -> bool {
        is_cluster_scoped(&self.group, &self.kind)
    }

    /// Namespace with "" meaning "default" for namespaced kinds.
    pub fn effective_namespace(&self) -> &str {
        if self.is_cluster_scoped() {
            ""
        } else if self.namespace.is_empty() {
            "default"
        } else {
            &self.namespace
        }
    }

    pub fn ns_equals(&self, other: &ResId) -> bool {
        self.effective_namespace() == other.effective_namespace()
    }

    /// Same group, version, kind and name (the namespace aside).
    pub fn gvkn_equals(&self, o: &ResId) -> bool {
        self.group == o.group && self.version == o.version && self.kind == o.kind && self.name == o.name
    }

    /// The same id, namespaces compared as kustomize does.
    pub fn equals(&self, o: &ResId) -> bool {
        self.gvkn_equals(o) && self.ns_equals(o)
    }
}

impl std::fmt::Display for ResId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = if self.version.is_empty() { "[noVer]" } else { &self.version };
        let g = if self.group.is_empty() { "[noGrp]" } else { &self.group };
        let ns = if self.namespace.is_empty() { "[noNs]" } else { &self.namespace };
        write!(f, "{}.{}.{}/{}.{}", self.kind, v, g, self.name, ns)
    }
}

pub fn is_cluster_scoped(group: &str, kind: &str) -> bool {
    builtin_scope(group, kind) == Some(Scope::Cluster)
}

/// A previous identity: (namespace, name, kind).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrevId {
    pub namespace: String,
    pub name: String,
    pub kind: String,
}

/// Where a resource came from, for `buildMetadata: [originAnnotations]`:
/// a file (`path`, relative to the top kustomization) or a generator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KOrigin {
    Path(String),
    Generated { configured_in: String, kind: String, name: String },
}

impl KOrigin {
    /// The `config.kubernetes.io/origin` annotation value kustomize writes.
    pub fn annotation(&self) -> String {
        match self {
            KOrigin::Path(p) => format!("path: {p}\n"),
            KOrigin::Generated { configured_in, kind, name } => {
                let mut s =
                    format!("configuredIn: {configured_in}\nconfiguredBy:\n  apiVersion: builtin\n  kind: {kind}\n");
                if !name.is_empty() {
                    s.push_str(&format!("  name: {name}\n"));
                }
                s
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Res {
    pub korigin: Option<KOrigin>,
    pub obj: Object,
    pub prev: Vec<PrevId>,
    pub prefixes: Vec<String>,
    pub suffixes: Vec<String>,
    /// Set for generated ConfigMaps/Secrets: whether a hash suffix is due.
    pub needs_hash: bool,
    pub behavior: Option<Behavior>,
    /// Names of the vars whose objref names this resource.
    pub ref_vars: Vec<String>,
    /// Transformers run on it, oldest first (`transformerAnnotations`).
    pub transformations: Vec<std::rc::Rc<super::buildmeta::Transformation>>,
}

impl Res {
    pub fn new(obj: Object) -> Self {
        Res {
            korigin: None,
            obj,
            prev: Vec::new(),
            prefixes: Vec::new(),
            suffixes: Vec::new(),
            needs_hash: false,
            behavior: None,
            ref_vars: Vec::new(),
            transformations: Vec::new(),
        }
    }

    pub fn cur_id(&self) -> ResId {
        ResId {
            group: self.obj.group().to_string(),
            version: self.obj.version().to_string(),
            kind: self.obj.kind().to_string(),
            name: self.obj.name().to_string(),
            namespace: self.obj.namespace().unwrap_or("").to_string(),
        }
    }

    /// The first id the resource had (its id in the file it came from).
    pub fn org_id(&self) -> ResId {
        let mut id = self.cur_id();
        if let Some(p) = self.prev.first() {
            id.name = p.name.clone();
            id.kind = p.kind.clone();
            id.namespace = p.namespace.clone();
        }
        id
    }

    /// Ids before each rename, as full ids (group/version of today).
    /// Does `hit` hold for the current id or a former one?
    pub fn any_id(&self, hit: impl Fn(&ResId) -> bool) -> bool {
        hit(&self.cur_id()) || self.prev_ids().iter().any(hit)
    }

    pub fn prev_ids(&self) -> Vec<ResId> {
        let cur = self.cur_id();
        self.prev
            .iter()
            .map(|p| ResId {
                group: cur.group.clone(),
                version: cur.version.clone(),
                kind: p.kind.clone(),
                name: p.name.clone(),
                namespace: p.namespace.clone(),
            })
            .collect()
    }

    pub fn store_previous_id(&mut self) {
        let id = self.cur_id();
        self.prev.push(PrevId {
            namespace: id.effective_namespace().to_string(),
            name: id.name.clone(),
            kind: id.kind.clone(),
        });
    }

    pub fn data(&self) -> &Map<String, Value> {
        self.obj.data()
    }

    pub fn data_mut(&mut self) -> &mut Map<String, Value> {
        self.obj.data_mut()
    }

    /// Both prefix and suffix lists end the same way as `other`'s
    /// (kustomize's `PrefixesSuffixesEquals`).
    pub fn prefixes_suffixes_equal(&self, other: &Res, allow_empty: bool) -> bool {
        let pe = self.prefixes.is_empty() || other.prefixes.is_empty();
        let se = self.suffixes.is_empty() || other.suffixes.is_empty();
        (allow_empty && pe || same_ending(&self.prefixes, &other.prefixes))
            && (allow_empty && se || same_ending(&self.suffixes, &other.suffixes))
    }
}

fn same_ending(a: &[String], b: &[String]) -> bool {
    if a.is_empty() || b.is_empty() {
        return a.is_empty() && b.is_empty();
    }
    let n = a.len().min(b.len());
    a[a.len() - n..] == b[b.len() - n..]
}

/// `group/version` split as kustomize does (`v1` is the core group).
pub fn split_api_version(av: &str) -> (&str, &str) {
    av.rsplit_once('/').unwrap_or(("", av))
}

/// `to` relative to the directory `from` (both absolute, lexically normalized).
pub fn relative_path(from: &std::path::Path, to: &std::path::Path) -> String {
    let f: Vec<_> = from.components().collect();
    let t: Vec<_> = to.components().collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); f.len() - common];
    parts.extend(t[common..].iter().map(|c| c.as_os_str().to_string_lossy().into_owned()));
    parts.join("/")
}
