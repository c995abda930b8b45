//! The executor: walks a tree with a dot value and writes text, with Go's
//! evaluation rules (field chains, methods with arguments, variables and
//! their scopes, `range` over lists, sorted maps and ints, `break` and
//! `continue`, short-circuit `and`/`or`, missing keys as `<no value>`).
//! Errors read as Go's: `template: FILE:LINE:COL: executing "NAME" at
//! <NODE>: message`. Template nesting, deadline and fuel are bounded by
//! [`Options`]; deep recursion grows the stack on the heap (`stacker`).

use std::fmt::Display;
use std::rc::Rc;

use super::ast::{Arg, ArgKind, Branch, Command, Node, NumValue, Pipe, Tree};
use super::ctx::{Ctx, Runtime};
use super::value::{Arity, Func, IntType, LIST_TYPE, Param, Value};
use super::{Error, MissingKey, Templates};

type R<T> = Result<T, Error>;

/// Stack left before a recursion step grows the stack, and the size of each new segment.
pub(crate) const RED_ZONE: usize = 256 * 1024;
pub(crate) const STACK_SEGMENT: usize = 4 * 1024 * 1024;

/// Runs one tree with its own output and variables.
pub(crate) fn run(set: &Templates, rt: &Runtime, tree: Rc<Tree>, dot: &Value) -> R<String> {
    let mut e = Exec { set, rt, tree: tree.clone(), vars: vec![(dollar(), dot.clone(), false)], out: String::new() };
    e.walk_list(dot, false, &tree.root)?;
    Ok(e.out)
}

/// The name `$`, shared.
fn dollar() -> Rc<str> {
    thread_local!(static DOLLAR: Rc<str> = Rc::from("$"));
    DOLLAR.with(Rc::clone)
}

enum Flow {
    Normal,
    Break,
    Continue,
}

/// A value and whether its static Go type is `interface {}` (an element of
/// a generic map or list), which shows in errors.
type Iv = (Value, bool);

struct Exec<'a> {
    set: &'a Templates,
    rt: &'a Runtime,
    tree: Rc<Tree>,
    vars: Vec<(Rc<str>, Value, bool)>,
    out: String,
}

/// Go: `can't evaluate field X in type T` names the static type.
fn static_type(v: &Value, iface: bool) -> String {
    if iface { "interface {}".into() } else { v.type_name() }
}

impl Exec<'_> {
    fn errorf(&self, pos: usize, node: &dyn Display, msg: impl Display) -> Error {
        let ctx = node.to_string();
        Error::Exec(format!(
            "template: {}: executing {:?} at <{}>: {}",
            self.tree.location(pos),
            self.tree.name,
            ctx,
            msg
        ))
    }

    fn step(&self) -> R<()> {
        self.rt.step().map_err(|m| Error::Limit(format!("template: {}: {m}", self.tree.name)))
    }

    fn walk_list(&mut self, dot: &Value, iface: bool, list: &[Node]) -> R<Flow> {
        for n in list {
            match stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || self.walk(dot, iface, n))? {
                Flow::Normal => {}
                f => return Ok(f),
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &Value, iface: bool, node: &Node) -> R<Flow> {
        self.step()?;
        if self.rt.max_output.is_some_and(|m| self.out.len() > m) {
            let max = self.rt.max_output.unwrap_or_default();
            return Err(Error::Limit(format!("template: {}: output exceeds {max} bytes", self.tree.name)));
        }
        match node {
            Node::Text(r) => self.out.push_str(&self.tree.text[r.clone()]),
            Node::Action(pipe) => {
                let v = self.eval_pipeline(dot, iface, pipe)?;
                if pipe.decl.is_empty() {
                    self.print_value(pipe, &v)?;
                }
            }
            Node::If(b) => return self.walk_if_with(dot, iface, b, false),
            Node::With(b) => return self.walk_if_with(dot, iface, b, true),
            Node::Range(b) => return self.walk_range(dot, iface, b),
            Node::Template { pos, name, pipe } => self.walk_template(dot, iface, *pos, name, pipe.as_deref())?,
            Node::Break(_) => return Ok(Flow::Break),
            Node::Continue(_) => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    fn print_value(&mut self, pipe: &Pipe, v: &Value) -> R<()> {
        match v {
            Value::Missing => self.out.push_str("<no value>"),
            Value::Func(_) => {
                let node = format!("{{{{{pipe}}}}}");
                return Err(self.errorf(pipe.pos, &node, format!("can't print {node} of type {}", v.type_name())));
            }
            v => super::fmt::write_value(&mut self.out, v),
        }
        Ok(())
    }

    fn last_node<'p>(&self, pipe: &'p Pipe) -> (usize, &'p dyn Display) {
        match pipe.cmds.last().and_then(|c| c.args.last()) {
            Some(a) => (a.pos, a),
            None => (pipe.pos, pipe),
        }
    }

    fn walk_if_with(&mut self, dot: &Value, iface: bool, b: &Branch, with: bool) -> R<Flow> {
        let mark = self.vars.len();
        let val = self.eval_pipeline(dot, iface, &b.pipe)?;
        let Some(truth) = val.truth() else {
            let (pos, node) = self.last_node(&b.pipe);
            return Err(self.errorf(pos, node, format!("if/with can't use {}", super::fmt::sprint_v(&val))));
        };
        let flow = if truth {
            if with { self.walk_list(&val, false, &b.list)? } else { self.walk_list(dot, iface, &b.list)? }
        } else if let Some(e) = &b.else_list {
            self.walk_list(dot, iface, e)?
        } else {
            Flow::Normal
        };
        self.vars.truncate(mark);
        Ok(flow)
    }

    fn walk_range(&mut self, dot: &Value, iface: bool, b: &Branch) -> R<Flow> {
        let outer = self.vars.len();
        let val = self.eval_pipeline(dot, iface, &b.pipe)?.underlying();
        let mark = self.vars.len();
        let ndecl = b.pipe.decl.len();
        let mut items: Vec<(Value, Value, bool)> = Vec::new();
        match &val {
            Value::List(l) => {
                let el_iface = l.ty == LIST_TYPE;
                for (i, v) in l.items.iter().enumerate() {
                    items.push((Value::int(i as i64), v.clone(), el_iface));
                }
            }
            Value::Map(m) => {
                for (k, v) in m.entries.borrow().iter() {
                    items.push((Value::str(k), v.clone(), true));
                }
            }
            Value::Int(n, t) => {
                if ndecl > 1 {
                    let (pos, node) = self.last_node(&b.pipe);
                    return Err(self.errorf(
                        pos,
                        node,
                        format!("can't use {n} to iterate over more than one variable"),
                    ));
                }
                for i in 0..(*n).max(0) {
                    items.push((Value::Int(i, *t), Value::Int(i, *t), false));
                }
            }
            Value::Missing | Value::Nil => {}
            v => {
                let (pos, node) = self.last_node(&b.pipe);
                return Err(self.errorf(pos, node, format!("range can't iterate over {}", super::fmt::sprint_v(v))));
            }
        }
        let empty = items.is_empty();
        for (index, elem, el_iface) in items {
            if ndecl > 0 {
                if b.pipe.is_assign {
                    let (name, v) =
                        if ndecl > 1 { (&b.pipe.decl[0], index.clone()) } else { (&b.pipe.decl[0], elem.clone()) };
                    self.set_var(b.pos, &b.pipe, name, v)?;
                } else {
                    let top = self.vars.len() - 1;
                    self.vars[top].1 = elem.clone();
                    self.vars[top].2 = el_iface;
                }
            }
            if ndecl > 1 {
                if b.pipe.is_assign {
                    self.set_var(b.pos, &b.pipe, &b.pipe.decl[1], elem.clone())?;
                } else {
                    let second = self.vars.len() - 2;
                    self.vars[second].1 = index;
                }
            }
            let flow = self.walk_list(&elem, el_iface, &b.list)?;
            self.vars.truncate(mark);
            if let Flow::Break = flow {
                break;
            }
        }
        if empty && let Some(e) = &b.else_list {
            let flow = self.walk_list(dot, iface, e)?;
            self.vars.truncate(outer);
            return Ok(flow);
        }
        self.vars.truncate(outer);
        Ok(Flow::Normal)
    }

    fn walk_template(&mut self, dot: &Value, iface: bool, pos: usize, name: &str, pipe: Option<&Pipe>) -> R<()> {
        let node = || match pipe {
            Some(p) => format!("{{{{template {name:?} {p}}}}}"),
            None => format!("{{{{template {name:?}}}}}"),
        };
        let Some(tree) = self.set.trees.get(name).cloned() else {
            return Err(self.errorf(pos, &node(), format!("template {name:?} not defined")));
        };
        if self.rt.depth.get() >= self.rt.max_depth {
            let msg = format!("exceeded maximum template depth ({})", self.rt.max_depth);
            return Err(match self.errorf(pos, &node(), msg) {
                Error::Exec(m) => Error::Limit(m),
                e => e,
            });
        }
        let new_dot = match pipe {
            Some(p) => self.eval_pipeline(dot, iface, p)?,
            None => Value::Missing,
        };
        let saved_vars = std::mem::replace(&mut self.vars, vec![(dollar(), new_dot.clone(), false)]);
        let saved_tree = std::mem::replace(&mut self.tree, tree.clone());
        self.rt.depth.set(self.rt.depth.get() + 1);
        let r = stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || self.walk_list(&new_dot, false, &tree.root));
        self.rt.depth.set(self.rt.depth.get() - 1);
        self.vars = saved_vars;
        self.tree = saved_tree;
        r.map(|_| ())
    }

    fn set_var(&mut self, pos: usize, node: &dyn Display, name: &str, v: Value) -> R<()> {
        match self.vars.iter_mut().rev().find(|x| &*x.0 == name) {
            Some(slot) => {
                slot.1 = v;
                slot.2 = false;
                Ok(())
            }
            None => Err(self.errorf(pos, node, format!("undefined variable: {name}"))),
        }
    }

    fn var_value(&self, pos: usize, node: &dyn Display, name: &str) -> R<Iv> {
        match self.vars.iter().rev().find(|x| &*x.0 == name) {
            Some(x) => Ok((x.1.clone(), x.2)),
            None => Err(self.errorf(pos, node, format!("undefined variable: {name}"))),
        }
    }

    fn eval_pipeline(&mut self, dot: &Value, iface: bool, pipe: &Pipe) -> R<Value> {
        stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || self.eval_pipeline_inner(dot, iface, pipe))
    }

    fn eval_pipeline_inner(&mut self, dot: &Value, iface: bool, pipe: &Pipe) -> R<Value> {
        let mut value: Option<Value> = None;
        for cmd in &pipe.cmds {
            let (v, _) = self.eval_command(dot, iface, cmd, value.take())?;
            // Go unwraps interface{} results: a nil interface becomes invalid.
            value = Some(if let Value::Nil = v { Value::Missing } else { v });
        }
        let value = value.unwrap_or(Value::Missing);
        for name in &pipe.decl {
            if pipe.is_assign {
                self.set_var(pipe.pos, pipe, name, value.clone())?;
            } else {
                self.vars.push((name.clone(), value.clone(), false));
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, args: &[Arg], fin: &Option<Value>) -> R<()> {
        if args.len() > 1 || fin.is_some() {
            return Err(self.errorf(args[0].pos, &args[0], format!("can't give argument to non-function {}", args[0])));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Value, iface: bool, cmd: &Command, fin: Option<Value>) -> R<Iv> {
        let first = &cmd.args[0];
        match &first.kind {
            ArgKind::Field(fields) => self.eval_chain(dot, (dot.clone(), iface), first, fields, &cmd.args, fin),
            ArgKind::Chain(inner, fields) => {
                if let ArgKind::Nil = inner.kind {
                    return Err(self.errorf(first.pos, first, format!("indirection through explicit nil in {first}")));
                }
                let recv = self.eval_arg(dot, iface, inner)?;
                self.eval_chain(dot, (recv, false), first, fields, &cmd.args, fin)
            }
            ArgKind::Ident(name) => self.eval_function(dot, first, name, &cmd.args[1..], fin),
            ArgKind::Pipe(p) => {
                self.not_a_function(&cmd.args, &fin)?;
                Ok((self.eval_pipeline(dot, iface, p)?, false))
            }
            ArgKind::Variable(name, fields) => {
                let v = self.var_value(first.pos, first, name)?;
                if fields.is_empty() {
                    self.not_a_function(&cmd.args, &fin)?;
                    return Ok(v);
                }
                self.eval_chain(dot, v, first, fields, &cmd.args, fin)
            }
            _ => {
                self.not_a_function(&cmd.args, &fin)?;
                match &first.kind {
                    ArgKind::Nil => Err(self.errorf(first.pos, first, "nil is not a command")),
                    _ => Ok((self.eval_arg(dot, iface, first)?, false)),
                }
            }
        }
    }

    /// An argument's value (Go's `evalArg` for an `interface{}` parameter).
    fn eval_arg(&mut self, dot: &Value, iface: bool, arg: &Arg) -> R<Value> {
        self.step()?;
        Ok(match &arg.kind {
            ArgKind::Dot => dot.clone(),
            ArgKind::Nil => Value::Nil,
            ArgKind::Bool(b) => Value::Bool(*b),
            ArgKind::Str(s, _) => Value::String(s.clone()),
            ArgKind::Number(n) => match n.value {
                NumValue::Int(i) => Value::int(i),
                NumValue::Float(f) => Value::Float(f),
                NumValue::Overflow => return Err(self.errorf(arg.pos, arg, format!("{} overflows int", n.text))),
            },
            ArgKind::Field(fields) => self.eval_chain(dot, (dot.clone(), iface), arg, fields, &[], None)?.0,
            ArgKind::Variable(name, fields) => {
                let v = self.var_value(arg.pos, arg, name)?;
                if fields.is_empty() { v.0 } else { self.eval_chain(dot, v, arg, fields, &[], None)?.0 }
            }
            ArgKind::Pipe(p) => self.eval_pipeline(dot, iface, p)?,
            ArgKind::Ident(name) => self.eval_function(dot, arg, name, &[], None)?.0,
            ArgKind::Chain(inner, fields) => {
                if let ArgKind::Nil = inner.kind {
                    return Err(self.errorf(arg.pos, arg, format!("indirection through explicit nil in {arg}")));
                }
                let recv = self.eval_arg(dot, iface, inner)?;
                self.eval_chain(dot, (recv, false), arg, fields, &[], None)?.0
            }
        })
    }

    /// `.a.b.c ARGS`: every link but the last takes no arguments.
    fn eval_chain(
        &mut self,
        dot: &Value,
        mut recv: Iv,
        node: &Arg,
        fields: &[String],
        args: &[Arg],
        fin: Option<Value>,
    ) -> R<Iv> {
        let n = fields.len();
        for f in &fields[..n - 1] {
            recv = self.eval_field(dot, node, f, &[], None, recv)?;
        }
        self.eval_field(dot, node, &fields[n - 1], args, fin, recv)
    }

    fn eval_field(&mut self, dot: &Value, node: &Arg, name: &str, args: &[Arg], fin: Option<Value>, recv: Iv) -> R<Iv> {
        let (recv, iface) = recv;
        let has_args = args.len() > 1 || fin.is_some();
        match &recv {
            Value::Missing => {
                if self.set.options.missing_key == MissingKey::Error {
                    return Err(self.errorf(node.pos, node, format!("nil data; no entry for key {name:?}")));
                }
                Ok((Value::Missing, false))
            }
            Value::Nil => Err(self.errorf(node.pos, node, format!("nil pointer evaluating interface {{}}.{name}"))),
            Value::Object(o) => {
                if let Some(m) = o.method(name) {
                    let rest = if args.is_empty() { args } else { &args[1..] };
                    return self.eval_call(dot, Call::Method, node, &m, name, rest, fin);
                }
                if let Some(v) = o.field(name) {
                    if has_args {
                        return Err(self.errorf(
                            node.pos,
                            node,
                            format!("{name} has arguments but cannot be invoked as function"),
                        ));
                    }
                    let is_nil = matches!(v, Value::Nil);
                    return Ok((v, is_nil));
                }
                if let Some(Value::Map(m)) = o.underlying() {
                    return self.map_field(node, name, &m, has_args);
                }
                Err(self.errorf(
                    node.pos,
                    node,
                    format!("can't evaluate field {name} in type {}", static_type(&recv, iface)),
                ))
            }
            Value::Map(m) => self.map_field(node, name, m, has_args),
            _ => Err(self.errorf(
                node.pos,
                node,
                format!("can't evaluate field {name} in type {}", static_type(&recv, iface)),
            )),
        }
    }

    /// A map key as a field (`.a` on a map, or on a named map type).
    fn map_field(&self, node: &Arg, name: &str, m: &super::value::Map, has_args: bool) -> R<Iv> {
        if has_args {
            return Err(self.errorf(node.pos, node, format!("{name} is not a method but has arguments")));
        }
        match m.get(name) {
            Some(v) => Ok((v, true)),
            None => match self.set.options.missing_key {
                MissingKey::Invalid => Ok((Value::Missing, false)),
                MissingKey::Zero => Ok((Value::Nil, true)),
                MissingKey::Error => Err(self.errorf(node.pos, node, format!("map has no entry for key {name:?}"))),
            },
        }
    }

    fn eval_function(&mut self, dot: &Value, ident: &Arg, name: &str, args: &[Arg], fin: Option<Value>) -> R<Iv> {
        let set = self.set;
        let Some((f, builtin)) = set.find_func(name) else {
            return Err(self.errorf(ident.pos, ident, format!("{name:?} is not a defined function")));
        };
        self.eval_call(dot, Call::Function { builtin }, ident, f, name, args, fin)
    }

    /// Calls `f` with `args` (the nodes after the function or method name)
    /// and the piped `fin` value.
    #[allow(clippy::too_many_arguments)]
    fn eval_call(
        &mut self,
        dot: &Value,
        call: Call,
        node: &Arg,
        f: &Func,
        name: &str,
        args: &[Arg],
        fin: Option<Value>,
    ) -> R<Iv> {
        let num_in = args.len() + usize::from(fin.is_some());
        match f.arity {
            Arity::Exact(n) if num_in != n => {
                return Err(self.errorf(
                    node.pos,
                    node,
                    format!("wrong number of args for {name}: want {n} got {num_in}"),
                ));
            }
            Arity::AtLeast(n) if num_in < n => {
                return Err(self.errorf(
                    node.pos,
                    node,
                    format!("wrong number of args for {name}: want at least {n} got {}", args.len()),
                ));
            }
            _ => {}
        }
        if matches!(call, Call::Function { builtin: true }) && (name == "and" || name == "or") {
            let want = name == "or";
            let mut v = Value::Missing;
            for a in args {
                v = self.eval_arg(dot, false, a)?;
                if v.truth().unwrap_or(true) == want {
                    return Ok((v, false));
                }
            }
            if let Some(f) = fin {
                v = f;
            }
            return Ok((v, false));
        }
        let mut argv = Vec::with_capacity(num_in);
        for (i, a) in args.iter().enumerate() {
            let p = f.param(i);
            let v = if p == Param::Any { self.eval_arg(dot, false, a)? } else { self.eval_typed_arg(dot, p, a)? };
            argv.push(if let Value::Missing = v { Value::Nil } else { v });
        }
        if let Some(v) = fin {
            let p = f.param(args.len());
            if p != Param::Any {
                let at = args.last().unwrap_or(node);
                self.validate(at, p, &v)?;
            }
            argv.push(if let Value::Missing = v { Value::Nil } else { v });
        }
        if !f.raw_strings && argv.iter().any(|v| matches!(v, Value::RawString(_))) {
            argv = argv.into_iter().map(Value::into_text).collect();
        }
        let mut ctx = Ctx { set: self.set, runtime: self.rt };
        match (f.body)(&mut ctx, &argv) {
            Ok(v) => Ok((v, false)),
            Err(Error::Limit(m)) => Err(Error::Limit(m)),
            Err(e) => {
                let msg = format!("error calling {name}: {}", e.message());
                match call {
                    Call::Method => Err(self.errorf(node.pos, node, msg)),
                    Call::Function { .. } => Err(self.errorf(node.pos, &CallNode { node, args }, msg)),
                }
            }
        }
    }
}

impl Exec<'_> {
    /// An argument for a typed parameter: literals are checked by kind
    /// (Go's `evalString`, `evalInteger`, ...), other values by type.
    fn eval_typed_arg(&mut self, dot: &Value, p: Param, a: &Arg) -> R<Value> {
        let bad = |e: &Self, what: &str| Err(e.errorf(a.pos, a, format!("expected {what}; found {a}")));
        match (&a.kind, p) {
            (ArgKind::Nil, p) if p.can_be_nil() => Ok(Value::Nil),
            (ArgKind::Nil, p) => Err(self.errorf(a.pos, a, format!("cannot assign nil to {}", p.name()))),
            (ArgKind::Bool(b), Param::Bool) => Ok(Value::Bool(*b)),
            (ArgKind::Str(s, _), Param::String) => Ok(Value::String(s.clone())),
            (ArgKind::Number(n), Param::Int | Param::Int64) => {
                let ty = if p == Param::Int { IntType::Int } else { IntType::Int64 };
                match n.value {
                    NumValue::Int(i) => Ok(Value::Int(i, ty)),
                    NumValue::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Ok(Value::Int(f as i64, ty)),
                    _ => bad(self, "integer"),
                }
            }
            (ArgKind::Number(n), Param::Float64) => match n.value {
                NumValue::Int(i) => Ok(Value::Float(i as f64)),
                NumValue::Float(f) => Ok(Value::Float(f)),
                NumValue::Overflow => bad(self, "float"),
            },
            (ArgKind::Str(..) | ArgKind::Number(_), Param::Bool) => bad(self, "bool"),
            (ArgKind::Bool(_) | ArgKind::Number(_), Param::String) => bad(self, "string"),
            (ArgKind::Bool(_) | ArgKind::Str(..), Param::Int | Param::Int64) => bad(self, "integer"),
            (ArgKind::Bool(_) | ArgKind::Str(..), Param::Float64) => bad(self, "float"),
            (ArgKind::Bool(_) | ArgKind::Str(..) | ArgKind::Number(_), p) => {
                Err(self.errorf(a.pos, a, format!("can't handle {a} for arg of type {}", p.name())))
            }
            _ => {
                let v = self.eval_arg(dot, false, a)?;
                self.validate(a, p, &v)?;
                Ok(v)
            }
        }
    }

    /// Go's `validateType` for a typed parameter.
    fn validate(&self, at: &Arg, p: Param, v: &Value) -> R<()> {
        match v {
            Value::Missing if p.can_be_nil() => Ok(()),
            Value::Missing => Err(self.errorf(at.pos, at, format!("invalid value; expected {}", p.name()))),
            Value::Nil => {
                Err(self.errorf(at.pos, at, format!("wrong type for value; expected {}; got interface {{}}", p.name())))
            }
            v if p.accepts(v) => Ok(()),
            v => Err(self.errorf(
                at.pos,
                at,
                format!("wrong type for value; expected {}; got {}", p.name(), v.type_name()),
            )),
        }
    }
}

/// A function (from the set or built in) or a method of an object.
#[derive(Clone, Copy)]
enum Call {
    Function { builtin: bool },
    Method,
}

/// The command node Go names in `error calling` errors: the function or
/// method and its arguments.
struct CallNode<'a> {
    node: &'a Arg,
    args: &'a [Arg],
}

impl Display for CallNode<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.node)?;
        for a in self.args {
            match &a.kind {
                ArgKind::Pipe(p) => write!(f, " ({p})")?,
                _ => write!(f, " {a}")?,
            }
        }
        Ok(())
    }
}
