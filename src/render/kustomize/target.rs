//! One kustomization directory being built, top to bottom as kustomize's
//! `KustTarget` does: resources (files and nested kustomizations),
//! components, generators, then transformers in kustomize's fixed order.
//! Name-reference fix-up and hash suffixes happen once, at the top.

use std::path::{Path, PathBuf};

use super::buildmeta::{self, Transformation};
use super::configurations::{self, Config};
use super::generators::generate;
use super::kustomization::{Kustomization, Loaded, load};
use super::resource::{Behavior, KOrigin, Res, relative_path};
use super::vars::{self, VarSet};
use super::{Build, KustError, crds, openapi, patch, plugins, replacements, transform};
use crate::error::Error;
use crate::render::decode_manifests;
use crate::yaml::Dialect;

/// A kustomization being built: its file and the directory every file it
/// names must stay in (kustomize's `LoadRestrictionsRootOnly`).
pub struct Target<'b> {
    pub k: Kustomization,
    pub dir: PathBuf,
    /// Root-relative label of the kustomization file, for messages.
    pub label: String,
    /// The kustomization file.
    pub file: PathBuf,
    pub build: &'b Build<'b>,
}

/// What a build accumulates besides resources (kustomize's
/// `ResAccumulator`): the merged transformer config and the vars.
#[derive(Debug, Default)]
pub struct Acc {
    pub config: Config,
    pub vars: VarSet,
}

fn is_remote(s: &str) -> bool {
    s.contains("://") || s.starts_with("github.com/") || s.starts_with("git@") || s.starts_with("gitlab.com/")
}

impl<'b> Target<'b> {
    pub fn new(loaded: Loaded, build: &'b Build<'b>) -> Self {
        let label = build.display(&loaded.file);
        Target { k: loaded.k, dir: loaded.dir, label, file: loaded.file, build }
    }

    /// Read a file the kustomization names; it must be in or below the
    /// kustomization's directory.
    pub fn read_file(&self, rel: &str) -> Result<Vec<u8>, String> {
        let p = self.restricted(rel)?;
        std::fs::read(&p).map_err(|e| format!("{}: {e}", self.build.display(&p)))
    }

    fn restricted(&self, rel: &str) -> Result<PathBuf, String> {
        let joined = crate::source::lexical_normalize(&self.dir.join(rel));
        // A missing file inside the root is checked as written (kustomize's message first).
        let real = self.locate(rel)?.unwrap_or_else(|| joined.clone());
        if !self.build.opts.unrestricted_files && !real.starts_with(&self.dir) {
            return Err(format!(
                "security; file '{}' is not in or below '{}'",
                self.build.display(&real),
                self.build.display(&self.dir)
            ));
        }
        self.build.src.confine(&joined).map_err(|e| e.to_string())
    }

    /// Where `entry` (a path as the kustomization writes it) really is:
    /// `None` when nothing is there. A path that leaves the source root,
    /// lexically or through a symlink, is refused naming it as written,
    /// before anything outside is looked at: the error says neither where
    /// it leads nor whether something exists there.
    fn locate(&self, entry: &str) -> Result<Option<PathBuf>, String> {
        let joined = crate::source::lexical_normalize(&self.dir.join(entry));
        match self.build.src.confine(&joined) {
            Ok(real) => Ok(Some(real)),
            Err(Error::PathEscape { root, detail, .. }) => {
                Err(Error::PathEscape { path: PathBuf::from(entry), root, detail }.to_string())
            }
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    /// kustomize's `accumulateTarget`.
    pub fn accumulate(&self, ra: &mut Vec<Res>, acc: &mut Acc) -> Result<(), String> {
        let own_vars = vars::parse(&self.k.vars, &self.label)?;
        self.accumulate_resources(ra, acc).map_err(|e| format!("accumulating resources: {e}"))?;
        let config = configurations::for_target(self)?;
        configurations::merge(&mut acc.config, &config).map_err(|e| format!("{}: merging config: {e}", self.label))?;
        if let Some(crd_config) = crds::config_for(self)? {
            configurations::merge(&mut acc.config, &crd_config)
                .map_err(|e| format!("{}: merging crds config: {e}", self.label))?;
        }
        // Generators run before components (kustomize v5.5 order).
        self.run_generators(ra)?;
        self.accumulate_components(ra, acc).map_err(|e| format!("accumulating components: {e}"))?;
        self.run_transformers(ra, &acc.config)?;
        vars::merge(ra, &mut acc.vars, &own_vars).map_err(|e| format!("{}: merging vars: {e}", self.label))?;
        Ok(())
    }

    /// Take in what a nested kustomization accumulated besides resources.
    fn absorb_sub(&self, acc: &mut Acc, sub: Acc, dir: &Path) -> Result<(), String> {
        let shown = self.build.display(&dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf()));
        let wrap = |e: String| format!("recursed merging from path '{shown}': {e}");
        configurations::merge(&mut acc.config, &sub.config).map_err(wrap)?;
        acc.vars.merge_set(sub.vars).map_err(wrap)
    }

    fn accumulate_resources(&self, ra: &mut Vec<Res>, acc: &mut Acc) -> Result<(), String> {
        for entry in &self.k.resources {
            if is_remote(entry) {
                return Err(format!(
                    "{}: unsupported remote resource '{entry}': only local paths are supported",
                    self.label
                ));
            }
            let joined = crate::source::lexical_normalize(&self.dir.join(entry));
            let located = self.locate(entry).map_err(|e| format!("accumulating resources from '{entry}': {e}"))?;
            if located.as_ref().is_some_and(|real| real.is_dir()) {
                let (sub, sub_acc) = self
                    .build_subdir(&joined, false)
                    .map_err(|e| format!("accumulation err='accumulating resources from '{entry}': {e}'"))?;
                append_all(ra, sub)?;
                self.absorb_sub(acc, sub_acc, &joined)?;
            } else {
                let text = if located.is_some() {
                    self.read_file(entry)
                } else {
                    Err(format!(
                        "evalsymlink failure on '{}' : lstat {}: no such file or directory",
                        self.build.display(&joined),
                        self.build.display(&joined)
                    ))
                }
                .map_err(|e| format!("accumulating resources from '{entry}': {e}"))?;
                let text = String::from_utf8(text).map_err(|_| format!("{entry}: not UTF-8"))?;
                let mut decoded = self
                    .build
                    .decode(&text, &joined)
                    .map_err(|e| format!("accumulating resources from '{entry}': {e}"))?;
                let origin = KOrigin::Path(relative_path(&self.build.top, &joined));
                for r in decoded.iter_mut() {
                    r.korigin = Some(origin.clone());
                }
                append_all(ra, decoded)?;
            }
        }
        Ok(())
    }

    pub fn build_subdir(&self, dir: &Path, component: bool) -> Result<(Vec<Res>, Acc), String> {
        self.build.src.confine(dir).map_err(|e| e.to_string())?;
        let real = dir.canonicalize().map_err(|e| e.to_string())?;
        let shown = self.build.display(&real);
        let loaded = load(&real, &self.build.display_kfile(&real)).map_err(|e| e.0)?;
        if component && loaded.k.kind != "Component" {
            return Err(format!(
                "accumulateDirectory: \"expected kind 'Component' for path '{shown}' but got '{}'",
                loaded.k.kind
            ));
        }
        if !component && loaded.k.kind == "Component" {
            return Err(format!("accumulateDirectory: \"expected kind != 'Component' for path '{shown}'"));
        }
        let _guard = self.build.enter(&real)?;
        let sub = Target::new(loaded, self.build);
        openapi::set_schema(&sub, false)?;
        let mut ra = Vec::new();
        let mut acc = Acc::default();
        sub.accumulate(&mut ra, &mut acc).map_err(|e| format!("recursed accumulation of path '{shown}': {e}"))?;
        Ok((ra, acc))
    }

    fn accumulate_components(&self, ra: &mut Vec<Res>, acc: &mut Acc) -> Result<(), String> {
        for entry in &self.k.components {
            if is_remote(entry) {
                return Err(format!("{}: unsupported remote component '{entry}'", self.label));
            }
            let joined = crate::source::lexical_normalize(&self.dir.join(entry));
            if !self.locate(entry)?.is_some_and(|real| real.is_dir()) {
                return Err(format!("must build at directory: '{}'", self.build.display(&joined)));
            }
            self.build.src.confine(&joined).map_err(|e| e.to_string())?;
            let real = joined.canonicalize().map_err(|e| e.to_string())?;
            let shown = self.build.display(&real);
            let loaded = load(&real, &self.build.display_kfile(&real)).map_err(|e| e.0)?;
            if loaded.k.kind != "Component" {
                return Err(format!(
                    "accumulateDirectory: \"expected kind 'Component' for path '{shown}' but got '{}'",
                    loaded.k.kind
                ));
            }
            let _guard = self.build.enter(&real)?;
            let sub = Target::new(loaded, self.build);
            openapi::set_schema(&sub, false)?;
            sub.accumulate(ra, acc).map_err(|e| format!("recursed accumulation of path '{shown}': {e}"))?;
        }
        Ok(())
    }

    fn run_generators(&self, ra: &mut Vec<Res>) -> Result<(), String> {
        let gens = self
            .k
            .config_map_generator
            .iter()
            .map(|g| (g, false))
            .chain(self.k.secret_generator.iter().map(|g| (g, true)));
        for (g, secret) in gens {
            let res = generate(self, g, secret).map_err(|e| format!("{}: {e}", self.label))?;
            absorb(ra, res)?;
        }
        for (config, from) in plugins::load_configs(self, &self.k.generators)? {
            for res in plugins::generate(self, &config, &from)? {
                absorb(ra, res)?;
            }
        }
        Ok(())
    }

    fn run_transformers(&self, ra: &mut Vec<Res>, config: &Config) -> Result<(), String> {
        let k = &self.k;
        let note = |ra: &mut Vec<Res>, kind: &str| buildmeta::record(self, ra, || Transformation::builtin(self, kind));
        if !k.patches_strategic_merge.is_empty() {
            for p in &k.patches_strategic_merge {
                patch::patches_strategic_merge(self, p, ra)?;
            }
            note(ra, "PatchStrategicMergeTransformer");
        }
        for p in &k.patches {
            patch::apply_patch(self, p, ra)?;
            note(ra, "PatchTransformer");
        }
        if !k.namespace.is_empty() {
            transform::namespace(&k.namespace, &config.namespace, ra)?;
            note(ra, "NamespaceTransformer");
        }
        if !k.name_prefix.is_empty() {
            transform::prefix_suffix_specs(&k.name_prefix, true, &config.name_prefix, ra);
            note(ra, "PrefixTransformer");
        }
        if !k.name_suffix.is_empty() {
            transform::prefix_suffix_specs(&k.name_suffix, false, &config.name_suffix, ra);
            note(ra, "SuffixTransformer");
        }
        transform::labels(k, config, ra)?;
        if !k.labels.is_empty() || !k.common_labels.is_empty() {
            // One instance per `labels` entry and one for `commonLabels`.
            for _ in 0..=k.labels.len() {
                note(ra, "LabelTransformer");
            }
        }
        if !k.common_annotations.is_empty() {
            transform::annotations(&k.common_annotations, &config.common_annotations, ra)?;
            note(ra, "AnnotationsTransformer");
        }
        for p in &k.patches_json6902 {
            patch::apply_json6902(self, p, ra)?;
            note(ra, "PatchJson6902Transformer");
        }
        for r in &k.replicas {
            transform::replicas(r, &config.replicas, ra)?;
            note(ra, "ReplicaCountTransformer");
        }
        for i in &k.images {
            transform::images(i, &config.images, ra)?;
            note(ra, "ImageTagTransformer");
        }
        if !k.replacements.is_empty() {
            replacements::run(self, &k.replacements, ra)?;
            note(ra, "ReplacementTransformer");
        }
        for (config, from) in plugins::load_configs(self, &k.transformers)? {
            plugins::transform(self, &config, ra)?;
            buildmeta::record(self, ra, || Transformation::plugin(&config, &from));
        }
        Ok(())
    }
}

fn same_id(a: &Res, b: &Res) -> bool {
    a.cur_id().equals(&b.cur_id())
}

/// Add a resource; its current id must be new (kustomize's `Append`).
pub fn append(ra: &mut Vec<Res>, r: Res) -> Result<(), String> {
    if ra.iter().any(|o| same_id(o, &r)) {
        return Err(format!("may not add resource with an already registered id: {}", r.cur_id()));
    }
    ra.push(r);
    Ok(())
}

/// The identity `append` compares: group, version, kind, name, effective namespace.
fn id_key(r: &Res) -> (String, String, String, String, String) {
    let id = r.cur_id();
    let ns = id.effective_namespace().to_string();
    (id.group, id.version, id.kind, id.name, ns)
}

/// Add many resources; each current id must be new.
pub fn append_all(ra: &mut Vec<Res>, more: Vec<Res>) -> Result<(), String> {
    let mut seen: std::collections::HashSet<_> = ra.iter().map(id_key).collect();
    for r in more {
        if !seen.insert(id_key(&r)) {
            return Err(format!("may not add resource with an already registered id: {}", r.cur_id()));
        }
        ra.push(r);
    }
    Ok(())
}

/// Add a generated resource, merging into or replacing an existing one
/// per its behavior (kustomize's `appendReplaceOrMerge`).
pub fn absorb(ra: &mut Vec<Res>, mut res: Res) -> Result<(), String> {
    let id = res.cur_id();
    let matches: Vec<usize> = ra
        .iter()
        .enumerate()
        .filter(|(_, o)| {
            let oc = o.cur_id();
            let hit = |g: &str, v: &str, k: &str, n: &str, ns_eq: bool| {
                g == id.group && v == id.version && k == id.kind && n == id.name && ns_eq
            };
            hit(&oc.group, &oc.version, &oc.kind, &oc.name, oc.ns_equals(&id))
                || o.prev_ids().iter().any(|p| {
                    hit(&p.group, &p.version, &p.kind, &p.name, p.effective_namespace() == id.effective_namespace())
                })
        })
        .map(|(i, _)| i)
        .collect();
    let behavior = res.behavior.unwrap_or(Behavior::Create);
    match matches.as_slice() {
        [] => match behavior {
            Behavior::Create => append(ra, res),
            _ => Err(format!("id {id} does not exist; cannot merge or replace")),
        },
        [i] => {
            let old = &ra[*i];
            match behavior {
                Behavior::Create => return Err(format!("id {id} exists; behavior must be merge or replace")),
                Behavior::Replace | Behavior::Merge => {
                    copy_merge_metadata(&mut res, old);
                    // The old annotations, transformations among them, stay.
                    let mut tr = old.transformations.clone();
                    tr.append(&mut res.transformations);
                    res.transformations = tr;
                    if behavior == Behavior::Merge {
                        // A merge keeps the original's origin; a replace has its own.
                        res.korigin = old.korigin.clone();
                        for field in ["data", "binaryData"] {
                            if let Some(serde_json::Value::Object(od)) = old.data().get(field) {
                                let mut merged = od.clone();
                                if let Some(serde_json::Value::Object(nd)) = res.data().get(field) {
                                    merged.extend(nd.clone());
                                }
                                res.data_mut().insert(field.into(), serde_json::Value::Object(merged));
                            }
                        }
                    }
                }
            }
            ra[*i] = res;
            Ok(())
        }
        _ => Err(format!("found multiple objects that could accept merge of {id}")),
    }
}

fn copy_merge_metadata(res: &mut Res, old: &Res) {
    for field in ["labels", "annotations"] {
        let mut merged = old.obj.metadata().get(field).and_then(|v| v.as_object()).cloned().unwrap_or_default();
        if let Some(serde_json::Value::Object(n)) = res.obj.metadata().get(field) {
            merged.extend(n.clone());
        }
        if merged.is_empty() {
            res.obj.metadata_mut().remove(field);
        } else {
            res.obj.metadata_mut().insert(field.into(), serde_json::Value::Object(merged));
        }
    }
    res.obj.set_name(old.obj.name());
    res.obj.set_namespace(old.obj.namespace());
    res.needs_hash = res.needs_hash && old.needs_hash;
    res.prev = old.prev.clone();
    res.prefixes = old.prefixes.clone();
    res.suffixes = old.suffixes.clone();
    res.ref_vars = old.ref_vars.clone();
    res.obj.origin = old.obj.origin.clone();
}

/// Decode a manifest stream into build resources.
pub fn decode_resources(text: &str, label: &str, budget: &crate::render::limits::Budget) -> Result<Vec<Res>, String> {
    let objs = decode_manifests(text, label, Dialect::Kustomize, budget).map_err(|e| {
        // Word duplicate keys as go-yaml does, which kustomize users know.
        let msg = e.to_string();
        match (msg.find("key \""), msg.find("\" already set in map")) {
            (Some(a), Some(b)) if a < b => format!("{}mapping key {} already defined", &msg[..a], &msg[a + 4..b + 1]),
            _ => msg,
        }
    })?;
    Ok(objs.into_iter().map(|o| Res::new(stringify_meta(o))).collect())
}

impl KustError {
    pub fn new(msg: impl Into<String>) -> Self {
        KustError(msg.into())
    }
}

/// Label and annotation values are strings; kustomize writes a `true` or
/// `8080` there as the string it reads as.
fn stringify_meta(mut o: crate::model::Object) -> crate::model::Object {
    for field in ["labels", "annotations"] {
        if let Some(serde_json::Value::Object(m)) = o.metadata_mut().get_mut(field) {
            for v in m.values_mut() {
                match v {
                    serde_json::Value::Bool(b) => *v = serde_json::Value::String(b.to_string()),
                    serde_json::Value::Number(n) => *v = serde_json::Value::String(n.to_string()),
                    _ => {}
                }
            }
        }
    }
    o
}
