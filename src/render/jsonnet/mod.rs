//! Jsonnet sources, evaluated in-process with jrsonnet.
//!
//! What is evaluated (first match wins):
//! - `--jsonnet-main FILE` (relative to the source directory), alone;
//! - a source that is itself a file (`render app/main.jsonnet`), alone;
//! - a directory holding `main.jsonnet` (a Tanka environment): only that
//!   file (its `spec.json` and other files are Tanka's, not manifests);
//! - otherwise the directory as Argo CD reads a directory app: every
//!   `*.jsonnet` file evaluated and every `*.yaml`, `*.yml`, `*.json` file
//!   decoded, in path order, with `-R`, `--include` and `--exclude` as for
//!   plain directories. `*.libsonnet` files are only ever imported;
//!   `jsonnetfile.json` and `jsonnetfile.lock.json` (jsonnet-bundler's) are
//!   skipped.
//!
//! Imports resolve through [`resolver::ConfinedResolver`]: the importing
//! file's directory, then `--jpath` (right-most first), then `lib/` and
//! `vendor/` of the source directory and of the repository root. Every file
//! read must stay, after following symlinks, inside the source root or a
//! `--jpath` directory. The program's value becomes objects by the rules in
//! [`output`]; errors carry the Jsonnet stack trace ([`trace`]).

mod natives;
mod output;
mod resolver;
mod trace;

use std::path::{Path, PathBuf};

use jrsonnet_evaluator::function::TlaArg;
use jrsonnet_evaluator::gc::GcHashMap;
use jrsonnet_evaluator::parser::{ParserSettings, Source};
use jrsonnet_evaluator::trace::PathResolver;
use jrsonnet_evaluator::{IStr, State, Val, apply_tla};

use super::decode::decode_manifests;
use super::limits::{Budget, Limit};
use crate::error::{Error, Result};
use crate::model::Object;
use crate::source::{DirectoryOptions, LocalSource, list_files};
use crate::yaml::Dialect;
use resolver::ConfinedResolver;

/// How Jsonnet programs are evaluated (the `jsonnet` CLI's flags).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonnetOptions {
    /// The one file to evaluate, relative to the source directory.
    pub main: Option<PathBuf>,
    /// Library search directories, in flag order (the last one wins).
    pub jpath: Vec<PathBuf>,
    /// `std.extVar` values.
    pub ext_vars: Vec<JsonnetVar>,
    /// Top-level arguments, passed when the program is a function.
    pub tlas: Vec<JsonnetVar>,
}

/// An external variable or top-level argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonnetVar {
    pub name: String,
    /// Jsonnet code (`--ext-code`) rather than a string (`--ext-str`).
    pub code: bool,
    pub value: VarValue,
}

/// Where a variable's text comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarValue {
    Inline(String),
    /// A file named on the command line (read as given, like `jsonnet --ext-str-file`).
    File(PathBuf),
}

impl JsonnetVar {
    /// `value` is the text itself, or a file path when `file`.
    pub fn new(name: &str, value: &str, code: bool, file: bool) -> Self {
        let value = if file { VarValue::File(PathBuf::from(value)) } else { VarValue::Inline(value.to_string()) };
        JsonnetVar { name: name.to_string(), code, value }
    }

    /// The flag that set it, for messages; `kind` is `ext` or `tla`.
    fn flag(&self, kind: &str) -> String {
        let file = if matches!(self.value, VarValue::File(_)) { "-file" } else { "" };
        format!("--{kind}-{}{file} {}", if self.code { "code" } else { "str" }, self.name)
    }

    fn text(&self, kind: &str) -> Result<String> {
        match &self.value {
            VarValue::Inline(s) => Ok(s.clone()),
            VarValue::File(p) => std::fs::read_to_string(p)
                .map_err(|e| Error::Usage(format!("{}: {}: {e}", self.flag(kind), p.display()))),
        }
    }
}

/// Does this source need the Jsonnet renderer whatever [`super::detect`] says?
/// (`--jsonnet-main`, or a source that is a `.jsonnet` file.)
pub fn is_forced(src: &LocalSource, opts: &JsonnetOptions) -> bool {
    opts.main.is_some() || (src.path().is_file() && src.path().extension().is_some_and(|e| e == "jsonnet"))
}

/// With `-R`, does a directory without top-level `*.jsonnet` files have some
/// further down? (Argo CD evaluates them in a recursive directory app.)
pub fn has_nested_jsonnet(src: &LocalSource, dir_opts: &DirectoryOptions) -> Result<bool> {
    if !dir_opts.recursive || !src.path().is_dir() {
        return Ok(false);
    }
    Ok(!list_files(src, dir_opts, |name| name.ends_with(".jsonnet"))?.is_empty())
}

fn is_jsonnet_or_manifest(name: &str) -> bool {
    if name == "jsonnetfile.json" || name == "jsonnetfile.lock.json" {
        return false;
    }
    [".jsonnet", ".yaml", ".yml", ".json"].iter().any(|ext| name.ends_with(ext))
}

/// The files to render, in order: explicit main, single file, Tanka `main.jsonnet`, or the directory.
fn input_files(src: &LocalSource, dir_opts: &DirectoryOptions, opts: &JsonnetOptions) -> Result<Vec<PathBuf>> {
    if let Some(main) = &opts.main {
        return Ok(vec![src.confine(main)?]);
    }
    if src.path().is_file() {
        return Ok(vec![src.path().to_path_buf()]);
    }
    let tanka_main = src.dir().join("main.jsonnet");
    if tanka_main.is_file() {
        return Ok(vec![src.confine(&tanka_main)?]);
    }
    list_files(src, dir_opts, is_jsonnet_or_manifest)
}

/// Jsonnet call depth allowed: C++ jsonnet's default `--max-stack` (jrsonnet's own default is 200).
const MAX_STACK: usize = 500;
/// Native stack of the evaluation thread (jrsonnet recurses on it; pages are only used when touched).
const THREAD_STACK: usize = 512 << 20;

/// Run `f` on a thread with a stack deep enough for [`MAX_STACK`] Jsonnet
/// frames, waiting for it until the budget's deadline. jrsonnet cannot be
/// interrupted: past the deadline the evaluation is abandoned (the thread
/// is detached and ends with the process or when the evaluation does) and
/// the render fails with the time limit.
fn on_big_stack<T: Send + 'static>(
    budget: &Budget,
    what: &str,
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("jsonnet".into())
        .stack_size(THREAD_STACK)
        .spawn(move || {
            let _depth = jrsonnet_evaluator::stack::limit_stack_depth(MAX_STACK);
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            let _ = tx.send(result);
        })
        .map_err(|e| Error::io("<jsonnet evaluation thread>", e))?;
    match rx.recv_timeout(budget.time_left()) {
        Ok(Ok(result)) => result,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(budget.exceeded(Limit::Time, what)),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(Error::Jsonnet {
            file: what.to_string(),
            message: "the evaluation thread ended without a result".into(),
        }),
    }
}

/// Render a Jsonnet source (see the module docs for what is evaluated).
pub fn render_jsonnet(
    src: &LocalSource,
    dir_opts: &DirectoryOptions,
    opts: &JsonnetOptions,
    budget: &Budget,
) -> Result<Vec<Object>> {
    let files = input_files(src, dir_opts, opts)?;
    let (src, opts, b) = (src.clone(), opts.clone(), budget.clone());
    on_big_stack(budget, &src.display_path(src.path()), move || render_files(&src, &files, &opts, &b))
}

fn render_files(src: &LocalSource, files: &[PathBuf], opts: &JsonnetOptions, budget: &Budget) -> Result<Vec<Object>> {
    let mut evaluator = None;
    let mut out = Vec::new();
    for file in files {
        let label = src.display_path(file);
        budget.check_time(&label)?;
        if file.extension().is_some_and(|e| e == "jsonnet") || opts.main.is_some() || src.path() == file {
            if evaluator.is_none() {
                evaluator = Some(Evaluator::new(src, opts)?);
            }
            let ev = evaluator.as_ref().expect("just set");
            let objects = ev.render_file(file, &label, budget.max_depth())?;
            let bytes: u64 = objects
                .iter()
                .map(|o| o.data().iter().map(|(k, v)| k.len() as u64 + crate::model::weight(v)).sum::<u64>())
                .sum();
            budget.charge(bytes, &label)?;
            out.extend(objects);
        } else {
            let text = std::fs::read_to_string(file).map_err(|e| Error::io(&label, e))?;
            out.extend(decode_manifests(&text, &label, Dialect::Kubectl, budget)?);
        }
    }
    Ok(out)
}

/// Evaluate one Jsonnet file of a source (top-level arguments applied) to
/// plain JSON, without the manifest rules: for tests and tools that need
/// the program's value itself.
pub fn evaluate_to_json(src: &LocalSource, file: &Path, opts: &JsonnetOptions) -> Result<serde_json::Value> {
    let file = src.confine(file)?;
    let budget = Budget::default();
    let (src, opts, max_depth) = (src.clone(), opts.clone(), budget.max_depth());
    on_big_stack(&budget, &file.display().to_string(), move || {
        let label = src.display_path(&file);
        let ev = Evaluator::new(&src, &opts)?;
        let value = ev.evaluate(&file, &label)?;
        output::to_json(&value, "$", max_depth).map_err(|e| Error::Jsonnet { file: label, message: e.render(&ev.root) })
    })
}

/// One jrsonnet state (import cache, stdlib, ext vars) shared by a source's files.
struct Evaluator {
    state: State,
    tlas: GcHashMap<IStr, TlaArg>,
    root: PathBuf,
}

impl Evaluator {
    fn new(src: &LocalSource, opts: &JsonnetOptions) -> Result<Self> {
        let root = src.root().to_path_buf();
        let resolver = ConfinedResolver::new(src, &opts.jpath)?;
        let ctx = jrsonnet_stdlib::ContextInitializer::new(PathResolver::Relative(root.clone()));
        natives::register(&ctx);
        for var in &opts.ext_vars {
            let text = var.text("ext")?;
            if var.code {
                ctx.add_ext_code(&var.name, text)
                    .map_err(|e| Error::Usage(format!("{}: {}", var.flag("ext"), trace::format_error(&e, &root))))?;
            } else {
                ctx.add_ext_str(var.name.as_str().into(), text.into());
            }
        }
        let mut tlas = GcHashMap::new();
        for var in &opts.tlas {
            let text = var.text("tla")?;
            let arg = if var.code {
                let source = Source::new_virtual(format!("<tla:{}>", var.name).into(), text.as_str().into());
                let parsed = jrsonnet_evaluator::parser::parse(&text, &ParserSettings { source }).map_err(|e| {
                    Error::Usage(format!(
                        "{}: syntax error: expected {}\n    at <tla:{}>:{}:{}",
                        var.flag("tla"),
                        e.expected,
                        var.name,
                        e.location.line,
                        e.location.column
                    ))
                })?;
                TlaArg::Code(parsed)
            } else {
                TlaArg::String(text.into())
            };
            tlas.insert(IStr::from(var.name.as_str()), arg);
        }
        let mut builder = State::builder();
        builder.import_resolver(resolver).context_initializer(ctx);
        Ok(Evaluator { state: builder.build(), tlas, root })
    }

    /// Evaluate one file, applying top-level arguments.
    fn evaluate(&self, file: &Path, label: &str) -> Result<Val> {
        self.state
            .resolve(file)
            .and_then(|p| self.state.import_resolved(p))
            .and_then(|v| apply_tla(self.state.clone(), &self.tlas, v))
            .map_err(|e| Error::Jsonnet { file: label.to_string(), message: trace::format_error(&e, &self.root) })
    }

    /// Evaluate one file and extract its objects.
    fn render_file(&self, file: &Path, label: &str, max_depth: usize) -> Result<Vec<Object>> {
        let value = self.evaluate(file, label)?;
        output::extract(value, label, max_depth)
            .map_err(|e| Error::Jsonnet { file: label.to_string(), message: e.render(&self.root) })
    }
}
