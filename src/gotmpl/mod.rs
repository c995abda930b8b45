//! A Go `text/template` engine of our own, for rendering Helm charts
//! natively (issue 15): lexer ([`lex`]), parser ([`parse`]) into trees,
//! executor ([`exec`]), Go's value model ([`value`]), `fmt` ([`fmt`]) and
//! the predefined functions ([`builtins`]).
//!
//! A [`Templates`] set holds parsed trees by name and a function map.
//! Other modules (Sprig, Helm) add functions with [`Templates::add_func`];
//! a function receives its evaluated arguments and a [`Ctx`], through which
//! `include` executes another template ([`Ctx::execute`]) and `tpl` parses
//! and executes text ([`Ctx::execute_text`]) under the same limits.
//!
//! ```
//! use kubectl_gitops::gotmpl::{Templates, Value};
//! let mut set = Templates::new();
//! set.parse("t", r#"{{ define "x" }}[{{ . }}]{{ end }}{{ template "x" .a }}"#).unwrap();
//! let dot = Value::from_json(&serde_json::json!({"a": 1e6}));
//! assert_eq!(set.execute("t", &dot).unwrap(), "[1e+06]");
//! ```
//!
//! Invariants: execution never overflows the stack (template nesting is
//! bounded by [`Options::max_depth`], deep expressions grow the stack on
//! the heap); with [`Options::deadline`] or [`Options::fuel`] it stops with
//! [`Error::Limit`]; errors read as Go's, which helm prints.

pub mod builtins;
pub mod exec;
pub mod fmt;
pub mod lex;
pub mod parse;
pub mod sprig;
pub mod value;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::rc::Rc;
use std::time::Instant;

pub use exec::{Ctx, Runtime};
pub use parse::Tree;
pub use value::{Arity, Func, IntType, List, Map, Object, Value};

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
    /// The deepest nesting of `template`/`include`/`tpl` calls (default 1000).
    pub max_depth: usize,
    /// Stop with [`Error::Limit`] after this instant.
    pub deadline: Option<Instant>,
    /// Stop with [`Error::Limit`] after this many evaluation steps.
    pub fuel: Option<u64>,
    pub missing_key: MissingKey,
}

impl Default for Options {
    fn default() -> Self {
        Options { max_depth: 1000, deadline: None, fuel: None, missing_key: MissingKey::Invalid }
    }
}

/// A set of named templates sharing a function map (Go's `*Template`
/// with its associated templates).
#[derive(Clone)]
pub struct Templates {
    /// The set's own name, used in `no template` errors.
    pub name: String,
    pub(crate) trees: HashMap<String, Rc<Tree>>,
    funcs: Rc<HashMap<String, Func>>,
    builtins: Rc<HashMap<String, Func>>,
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
            trees: HashMap::new(),
            funcs: Rc::new(HashMap::new()),
            builtins: Rc::new(builtins::builtins()),
            options: Options::default(),
        }
    }

    /// Adds (or replaces) a function; set functions shadow built-ins, as
    /// with Go's `Funcs`.
    pub fn add_func(&mut self, f: Func) {
        Rc::make_mut(&mut self.funcs).insert(f.name.to_string(), f);
    }

    /// A function by name and whether it is a built-in.
    pub fn find_func(&self, name: &str) -> Option<(Func, bool)> {
        if let Some(f) = self.funcs.get(name) {
            return Some((f.clone(), false));
        }
        self.builtins.get(name).map(|f| (f.clone(), true))
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
        let rt = Runtime::new(self);
        let mut ctx = Ctx { set: self, runtime: &rt };
        ctx.execute(name, dot)
    }
}
