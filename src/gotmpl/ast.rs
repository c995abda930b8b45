//! The syntax tree of a parsed template and how Go prints its nodes
//! (`String()`), which execution errors quote: `at <.a.b>`, `at <index .l 5>`.

use std::fmt;
use std::rc::Rc;

/// One parsed template.
#[derive(Debug)]
pub struct Tree {
    /// The template's name (a file name or a `define` name).
    pub name: String,
    /// The name of the text it was parsed from (Go's `ParseName`).
    pub parse_name: Rc<str>,
    /// That whole text: node positions are byte offsets into it.
    pub text: Rc<str>,
    pub root: Vec<Node>,
}

impl Tree {
    /// Go's `IsEmptyTree`: only spaces in text, nothing else.
    pub fn is_empty(&self) -> bool {
        self.root.iter().all(|n| matches!(n, Node::Text(r) if self.text[r.clone()].trim().is_empty()))
    }

    /// `NAME:LINE:COL` of a byte offset (column counted from 0 as Go does).
    pub fn location(&self, pos: usize) -> String {
        let before = &self.text[..pos.min(self.text.len())];
        let line = 1 + before.matches('\n').count();
        let col = match before.rfind('\n') {
            Some(nl) => pos - nl - 1,
            None => pos,
        };
        format!("{}:{}:{}", self.parse_name, line, col)
    }
}

#[derive(Debug)]
pub enum Node {
    /// Text: its byte range in the tree's `text`.
    Text(std::ops::Range<usize>),
    // (boxed: most nodes are text, kept small)
    Action(Box<Pipe>),
    If(Box<Branch>),
    Range(Box<Branch>),
    With(Box<Branch>),
    Template {
        pos: usize,
        name: String,
        pipe: Option<Box<Pipe>>,
    },
    Break(usize),
    Continue(usize),
}

/// `if`, `range`, `with`.
#[derive(Debug)]
pub struct Branch {
    pub pos: usize,
    pub pipe: Pipe,
    pub list: Vec<Node>,
    pub else_list: Option<Vec<Node>>,
}

#[derive(Debug)]
pub struct Pipe {
    pub pos: usize,
    /// Declared or assigned variables (`$x`).
    pub decl: Vec<std::rc::Rc<str>>,
    pub is_assign: bool,
    pub cmds: Vec<Command>,
}

#[derive(Debug)]
pub struct Command {
    pub pos: usize,
    pub args: Vec<Arg>,
}

#[derive(Debug)]
pub struct Arg {
    pub pos: usize,
    pub kind: ArgKind,
}

#[derive(Debug)]
pub enum ArgKind {
    /// `.a.b`
    Field(Vec<String>),
    /// `$x.a.b`: the name and then the fields.
    Variable(String, Vec<String>),
    Dot,
    Nil,
    Bool(bool),
    Number(Number),
    /// The value and the text as written.
    Str(std::rc::Rc<str>, String),
    Ident(String),
    Pipe(Pipe),
    /// `(pipe).a.b`
    Chain(Box<Arg>, Vec<String>),
}

/// A number literal and the value Go gives it without a typed context.
#[derive(Debug)]
pub struct Number {
    pub text: String,
    pub value: NumValue,
}

#[derive(Debug, Clone, Copy)]
pub enum NumValue {
    Int(i64),
    Float(f64),
    /// Fits no `int` (Go: `overflows int` at execution).
    Overflow,
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            write!(f, "{}", self.decl.join(", "))?;
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            match &a.kind {
                ArgKind::Pipe(p) => write!(f, "({p})")?,
                _ => write!(f, "{a}")?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ArgKind::Field(fs) => fs.iter().try_for_each(|x| write!(f, ".{x}")),
            ArgKind::Variable(v, fs) => {
                f.write_str(v)?;
                fs.iter().try_for_each(|x| write!(f, ".{x}"))
            }
            ArgKind::Dot => f.write_str("."),
            ArgKind::Nil => f.write_str("nil"),
            ArgKind::Bool(b) => write!(f, "{b}"),
            ArgKind::Number(n) => f.write_str(&n.text),
            ArgKind::Str(_, q) => f.write_str(q),
            ArgKind::Ident(i) => f.write_str(i),
            ArgKind::Pipe(p) => write!(f, "{p}"),
            ArgKind::Chain(a, fs) => {
                match &a.kind {
                    ArgKind::Pipe(p) => write!(f, "({p})")?,
                    _ => write!(f, "{a}")?,
                }
                fs.iter().try_for_each(|x| write!(f, ".{x}"))
            }
        }
    }
}
