//! Kustomize overlays, rendered natively (conformant with kustomize v5.5).
//!
//! [`render_kustomize`] builds the kustomization in a source directory the
//! way `kustomize build` does: [`target`] accumulates resources, nested
//! kustomizations and components, runs generators ([`generators`]) and the
//! built-in transformers ([`transform`], [`patch`] with [`smp`] and the
//! schema [`openapi`] chooses, [`replacements`]) with the field specs of
//! the merged transformer config ([`configurations`], [`crds`]); then, once
//! at the top, generated names get
//! their content hash, [`nameref`] fixes every reference to renamed
//! objects and [`vars`] substitutes `$(VAR)` references.
//! Every file goes through [`LocalSource::confine`], and files a
//! kustomization names must be in or below its directory.

mod buildmeta;
mod configurations;
mod crds;
mod fieldspec;
mod generators;
mod kustomization;
mod nameref;
mod openapi;
mod patch;
mod plugins;
mod replacements;
mod resource;
mod smp;
mod smp_schema;
mod target;
mod transform;
mod vars;

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::model::Object;
use crate::source::LocalSource;

pub use smp::strategic_merge;

use resource::Res;
use target::Target;

/// An error inside a build, before it is tied to the top kustomization.
#[derive(Debug, Clone)]
pub struct KustError(pub String);

/// How to build (kustomize's `--reorder` and `--load-restrictor` flags).
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Sort the output in kustomize's legacy kind order (`--reorder legacy`).
    pub legacy_order: bool,
    /// Let a kustomization read files outside its own directory (still
    /// inside the source root): `--load-restrictor LoadRestrictionsNone`.
    pub unrestricted_files: bool,
    /// The render's time, output and depth budget.
    pub budget: crate::render::limits::Budget,
}

/// State shared by every target of one build.
pub struct Build<'a> {
    pub src: &'a LocalSource,
    pub opts: BuildOptions,
    /// The directory built; origin paths are relative to it.
    pub top: PathBuf,
    stack: RefCell<Vec<PathBuf>>,
    /// The OpenAPI schema in effect (the `openapi` field).
    pub openapi: RefCell<openapi::State>,
    /// The top kustomization's `buildMetadata` options.
    pub meta: buildmeta::Options,
}

/// Leaves a directory of the cycle-detection stack when dropped.
pub struct StackGuard<'a>(&'a RefCell<Vec<PathBuf>>);

impl Drop for StackGuard<'_> {
    fn drop(&mut self) {
        self.0.borrow_mut().pop();
    }
}

impl<'a> Build<'a> {
    /// `p` as kustomize shows it: absolute from the source root (`/app/x.yaml`).
    pub fn display(&self, p: &Path) -> String {
        match p.strip_prefix(self.src.root()) {
            Ok(rel) => format!("/{}", rel.to_string_lossy()),
            Err(_) => p.to_string_lossy().into_owned(),
        }
    }

    fn display_kfile(&self, dir: &Path) -> String {
        match kustomization::find_file(dir) {
            Ok(f) => self.display(&f),
            Err(_) => self.display(dir),
        }
    }

    /// Enter a kustomization directory; an error if it is already being built.
    pub fn enter(&self, dir: &Path) -> Result<StackGuard<'_>, String> {
        let mut stack = self.stack.borrow_mut();
        if stack.iter().any(|d| d == dir) {
            let chain: Vec<String> = stack.iter().map(|d| self.display(d)).collect();
            return Err(format!(
                "cycle detected: '{}' includes itself (via {})",
                self.display(dir),
                chain.join(" -> ")
            ));
        }
        if stack.len() >= self.opts.budget.max_depth() {
            return Err(format!(
                "kustomizations nest deeper than {} levels at '{}' (raise it with --max-nesting)",
                self.opts.budget.max_depth(),
                self.display(dir)
            ));
        }
        self.opts.budget.check_time(&self.display(dir)).map_err(|e| e.to_string())?;
        stack.push(dir.to_path_buf());
        Ok(StackGuard(&self.stack))
    }

    /// The custom schema strategic merge patches use now, if any.
    pub fn smp_schema(&self) -> Option<std::rc::Rc<openapi::CustomSchema>> {
        let mut state = self.openapi.borrow_mut();
        let custom = state.custom();
        if custom.is_none() {
            state.note_builtin_read();
        }
        custom
    }

    pub fn decode(&self, text: &str, file: &Path) -> Result<Vec<Res>, String> {
        let label = self.src.display_path(file);
        let res = target::decode_resources(text, &label, &self.opts.budget)?;
        // kustomize reads the built-in schema for the scope of kinds it has
        // no precomputed scope for.
        if res.iter().any(|r| crate::normalize::builtin_scope(r.obj.group(), r.obj.kind()).is_none()) {
            self.openapi.borrow_mut().note_builtin_read();
        }
        Ok(res)
    }
}

/// Build the kustomization at the source path; objects in kustomize's
/// output order (what `kustomize build --reorder none` prints, or with
/// `legacy_order` what `--reorder legacy` prints).
pub fn build(src: &LocalSource, opts: &BuildOptions) -> Result<Vec<Object>> {
    let dir = src.dir().to_path_buf();
    let mut build = Build {
        src,
        opts: opts.clone(),
        top: dir.clone(),
        stack: RefCell::new(Vec::new()),
        openapi: Default::default(),
        meta: Default::default(),
    };
    let top_label = build.display_kfile(&dir);
    let shown = match src.display_path(&dir) {
        d if d.is_empty() => ".".to_string(),
        d => d,
    };
    let wrap = |message: String| Error::Kustomize { file: shown.clone(), message };
    let loaded = kustomization::load(&dir, &top_label).map_err(|e| wrap(e.0))?;
    build.meta = buildmeta::Options::parse(&loaded.k.build_metadata, &top_label).map_err(wrap)?;
    let mut sort = loaded.k.sort_options.clone();
    if opts.legacy_order && sort.is_none() {
        sort = Some(kustomization::SortOptions { order: "legacy".into(), legacy_sort_options: None });
    }
    let _guard = build.enter(&dir).map_err(wrap)?;
    let target = Target::new(loaded, &build);
    openapi::set_schema(&target, true).map_err(wrap)?;
    let mut ra = Vec::new();
    let mut acc = target::Acc::default();
    target.accumulate(&mut ra, &mut acc).map_err(wrap)?;
    for r in ra.iter_mut().filter(|r| r.needs_hash) {
        let hash = generators::content_hash(r.data());
        r.store_previous_id();
        let name = format!("{}-{hash}", r.obj.name());
        r.obj.set_name(&name);
    }
    nameref::fix(&mut ra, &acc.config.name_refs).map_err(wrap)?;
    vars::resolve(&mut ra, &acc.vars, &acc.config.var_reference).map_err(wrap)?;
    ra.retain(|r| r.obj.annotation("config.kubernetes.io/local-config") != Some("true"));
    buildmeta::annotate(&mut ra, build.meta);
    let mut out: Vec<Object> = ra.into_iter().map(|r| r.obj).collect();
    transform::sort(sort.as_ref(), &mut out).map_err(wrap)?;
    Ok(out)
}

/// Strategic merge with the built-in schema, for the fuzzing entry points.
#[doc(hidden)]
pub fn fuzz_strategic_merge(
    target: &mut serde_json::Value,
    patch: &serde_json::Value,
    gvk: (&str, &str, &str),
) -> std::result::Result<bool, String> {
    smp::strategic_merge_with(target, patch, gvk, None)
}

/// Render a kustomization source (the [`crate::render::render`] entry).
pub fn render_kustomize(src: &LocalSource, budget: &crate::render::limits::Budget) -> Result<Vec<Object>> {
    build(src, &BuildOptions { budget: budget.clone(), ..BuildOptions::default() })
}
