//! A Go `text/template` engine of our own, for rendering Helm charts
//! natively (issue 15): lexer ([`lex`]), parser ([`parse`], [`literal`])
//! into trees ([`ast`]), executor ([`exec`], [`ctx`]), Go's value model
//! ([`value`]), `fmt` ([`fmt`], [`float`]) and the predefined functions
//! ([`builtins`]); Sprig's library ([`sprig`]) and helm's own functions
//! ([`helm`]).
//!
//! A [`Templates`] set holds parsed trees by name and a function map.
//! Other modules (Sprig, Helm) add functions before parsing (Go checks
//! names at parse time) with [`Templates::add_func`]/[`Templates::add_funcs`].
//! A function receives its evaluated arguments (missing values as
//! [`Value::Nil`]) and a [`Ctx`], through which `include` executes another
//! template ([`Ctx::execute`]) and `tpl` parses and executes text
//! ([`Ctx::execute_text`]) under the same [`Runtime`] (depth, fuel,
//! deadline). It returns a value, or [`Error::Func`] which the executor
//! reports as Go does (`error calling NAME: ...`). [`Func::typed`] declares
//! Go parameter types checked before the call.
//!
//! ```
//! use kubectl_gitops::gotmpl::{Arity, Error, Func, Templates, Value};
//! let mut set = Templates::new();
//! set.add_func(Func::new("include", Arity::Exact(2), |ctx, a| {
//!     let name = a[0].as_str().ok_or_else(|| Error::Func("name must be a string".into()))?;
//!     ctx.execute(name, &a[1]).map(Value::from)
//! }));
//! set.parse("t", r#"{{ define "x" }}[{{ . }}]{{ end }}{{ template "x" .a }} {{ include "x" 3 | printf "%q" }}"#)
//!     .unwrap();
//! let dot = Value::from_json(&serde_json::json!({"a": 1e6}));
//! assert_eq!(set.execute("t", &dot).unwrap(), r#"[1e+06] "[3]""#);
//! ```
//!
//! Not thread-safe by design (`Rc` values, shared mutable maps as in Go):
//! one set renders on one thread.
//!
//! Invariants: execution never overflows the stack (template nesting is
//! bounded by [`Options::max_depth`], deep expressions grow the stack on
//! the heap); with [`Options::deadline`] or [`Options::fuel`] it stops with
//! [`Error::Limit`]; errors read as Go's, which helm prints.

pub mod ast;
pub mod builtins;
pub mod ctx;
pub mod exec;
pub mod float;
pub mod fmt;
pub mod helm;
pub mod lex;
pub mod literal;
pub mod parse;
pub mod sprig;
pub mod value;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::rc::Rc;
use std::time::Instant;

pub use ast::Tree;
pub use ctx::{Ctx, Runtime};
pub use value::{Arity, Func, IntType, List, Map, Object, Param, Value};

/// A template error; the message is complete (`template: ...`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A syntax error: `template: NAME:LINE: message`.
    #[error("{0}")]
    Parse(String),
    /// An execution error: `template: NAME:LINE:COL: executing "NAME" at <NODE>: message`.
    #[error("{0}")]
    Exec(String),
    /// Raised by a function; the executor wraps it as `error calling NAME: ...`.
    #[error("{0}")]
    Func(String),
    /// Nesting depth, deadline or fuel exhausted; passed through unwrapped.
    #[error("{0}")]
    Limit(String),
}

impl Error {
    pub fn message(&self) -> &str {
        match self {
            Error::Parse(m) | Error::Exec(m) | Error::Func(m) | Error::Limit(m) => m,
        }
    }
}

/// Go's `missingkey` option: what a missing map key evaluates to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MissingKey {
    /// `missingkey=default`: an invalid value, printed `<no value>`.
    #[default]
    Invalid,
    /// `missingkey=zero`: the map's zero element, a nil `interface{}`
    /// (helm's default: `.a.b` on a missing `a` is a nil pointer error).
    Zero,
    /// `missingkey=error`: `map has no entry for key "x"`.
    Error,
}

/// Execution limits and options.
#[derive(Clone, Debug)]
pub struct Options {
    /// The deepest nesting of `template`/`include`/`tpl` calls (default
    /// 1000, helm's `include` limit; Go's own `template` limit is 100000,
    /// which we do not default to: our frames are larger than Go's).
    pub max_depth: usize,
    /// Stop with [`Error::Limit`] after this instant.
    pub deadline: Option<Instant>,
    /// Stop with [`Error::Limit`] after this many evaluation steps.
    pub fuel: Option<u64>,
    /// Stop with [`Error::Limit`] once one template's output passes this
    /// many bytes (checked between nodes).
    pub max_output: Option<usize>,
    pub missing_key: MissingKey,
}

impl Default for Options {
    fn default() -> Self {
        Options { max_depth: 1000, deadline: None, fuel: None, max_output: None, missing_key: MissingKey::Invalid }
    }
}

/// Maps keyed by template and function names, hashed with FNV-1a: the
/// names are short, and the lookups are on every call.
pub(crate) type NameMap<V> = HashMap<String, V, std::hash::BuildHasherDefault<Fnv>>;

/// The FNV-1a hash (64 bits).
#[derive(Default)]
pub(crate) struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// A set of named templates sharing a function map (Go's `*Template`
/// with its associated templates).
#[derive(Clone)]
pub struct Templates {
    /// The set's own name, used in `no template` errors.
    pub name: String,
    pub(crate) trees: NameMap<Rc<Tree>>,
    funcs: Rc<NameMap<Func>>,
    builtins: Rc<NameMap<Func>>,
    pub options: Options,
}

impl Default for Templates {
    fn default() -> Self {
        Templates::new()
    }
}

impl Templates {
    /// An empty set with Go's built-in functions.
    pub fn new() -> Templates {
        Templates {
            name: String::new(),
            trees: NameMap::default(),
            funcs: Rc::new(NameMap::default()),
            builtins: Rc::new(builtins::builtins().into_iter().collect()),
            options: Options::default(),
        }
    }

    /// Adds (or replaces) a function; set functions shadow built-ins, as
    /// with Go's `Funcs`.
    pub fn add_func(&mut self, f: Func) {
        Rc::make_mut(&mut self.funcs).insert(f.name.to_string(), f);
    }

    /// Adds several functions (a function map).
    pub fn add_funcs(&mut self, funcs: impl IntoIterator<Item = Func>) {
        let map = Rc::make_mut(&mut self.funcs);
        for f in funcs {
            map.insert(f.name.to_string(), f);
        }
    }

    /// A function by name and whether it is a built-in.
    pub fn find_func(&self, name: &str) -> Option<(&Func, bool)> {
        if let Some(f) = self.funcs.get(name) {
            return Some((f, false));
        }
        self.builtins.get(name).map(|f| (f, true))
    }

    /// Parses `text` as template `name`, adding it and its `define`s to the
    /// set; a later definition replaces an earlier one unless it is empty.
    pub fn parse(&mut self, name: &str, text: &str) -> Result<(), Error> {
        let has = |f: &str| self.funcs.contains_key(f) || self.builtins.contains_key(f);
        let trees = parse::parse(name, text, &has)?;
        for t in trees {
            if t.is_empty() && self.trees.contains_key(&t.name) {
                continue;
            }
            self.trees.insert(t.name.clone(), Rc::new(t));
        }
        Ok(())
    }

    /// Whether a template of that name exists.
    pub fn has(&self, name: &str) -> bool {
        self.trees.contains_key(name)
    }

    /// The template names, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.trees.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    /// Executes template `name` with `dot` (Go's `ExecuteTemplate`).
    pub fn execute(&self, name: &str, dot: &Value) -> Result<String, Error> {
        self.execute_with(&Runtime::new(self), name, dot)
    }

    /// Executes template `name` under a budget shared with other calls
    /// (helm renders every file of a chart under one deadline and fuel).
    pub fn execute_with(&self, runtime: &Runtime, name: &str, dot: &Value) -> Result<String, Error> {
        let mut ctx = Ctx { set: self, runtime };
        ctx.execute(name, dot)
    }
}
