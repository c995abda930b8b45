//! What a function sees of the running execution ([`Ctx`]: the template
//! set, for `include` and `tpl`) and the limits shared by one execution and
//! everything it calls ([`Runtime`]: nesting depth, fuel, deadline).

use std::cell::Cell;
use std::time::Instant;

use super::exec::run;
use super::value::Value;
use super::{Error, Templates};

type R<T> = Result<T, Error>;

/// Limits shared by one execution and everything it calls (`template`,
/// `include`, `tpl`).
#[derive(Debug)]
pub struct Runtime {
    pub(crate) depth: Cell<usize>,
    steps: Cell<u64>,
    pub(crate) max_depth: usize,
    fuel: Option<u64>,
    deadline: Option<Instant>,
    pub(crate) max_output: Option<usize>,
}

impl Runtime {
    /// A fresh budget from the set's [`super::Options`]; share one across
    /// several [`Templates::execute_with`] calls to bound them together.
    pub fn new(set: &Templates) -> Runtime {
        let o = &set.options;
        Runtime {
            depth: Cell::new(0),
            steps: Cell::new(0),
            max_depth: o.max_depth,
            fuel: o.fuel,
            deadline: o.deadline,
            max_output: o.max_output,
        }
    }

    /// Steps taken so far (what fuel counts).
    pub fn steps(&self) -> u64 {
        self.steps.get()
    }

    /// The current template nesting depth.
    pub fn depth(&self) -> usize {
        self.depth.get()
    }

    /// The largest nesting depth allowed.
    pub fn max_depth(&self) -> usize {
        self.max_depth
    }

    /// Counts one step; fails when the fuel is spent or the deadline passed.
    pub(crate) fn step(&self) -> Result<(), String> {
        let n = self.steps.get() + 1;
        self.steps.set(n);
        if self.fuel.is_some_and(|f| n > f) {
            return Err("template execution stopped: fuel exhausted".into());
        }
        if n.is_multiple_of(256) && self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err("template execution stopped: deadline exceeded".into());
        }
        Ok(())
    }
}

/// What functions see of the running execution: the template set (for
/// `include` and `tpl`) and the shared limits.
pub struct Ctx<'a> {
    pub set: &'a Templates,
    pub runtime: &'a Runtime,
}

impl Ctx<'_> {
    /// Executes the named template of the set with `dot` (Go's
    /// `ExecuteTemplate`), one level deeper than the caller.
    pub fn execute(&mut self, name: &str, dot: &Value) -> R<String> {
        let Some(tree) = self.set.trees.get(name).cloned() else {
            return Err(Error::Exec(format!(
                "template: no template {name:?} associated with template {:?}",
                self.set.name
            )));
        };
        let rt = self.runtime;
        if rt.depth.get() >= rt.max_depth {
            return Err(Error::Limit(format!("template: {name}: exceeded maximum template depth ({})", rt.max_depth)));
        }
        rt.depth.set(rt.depth.get() + 1);
        let r = run(self.set, rt, tree, dot);
        rt.depth.set(rt.depth.get() - 1);
        r
    }

    /// Parses `text` as template `name` into a copy of the set (its defines
    /// visible only there) and executes it with `dot`, as helm's `tpl` does.
    pub fn execute_text(&mut self, name: &str, text: &str, dot: &Value) -> R<String> {
        let mut set = self.set.clone();
        set.parse(name, text)?;
        let mut ctx = Ctx { set: &set, runtime: self.runtime };
        ctx.execute(name, dot)
    }
}
