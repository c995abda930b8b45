//! The parser: tokens into trees, one per template (`define`/`block` bodies
//! become their own trees), with Go's rules: variables must be declared
//! before use (scoped to the enclosing control structure), functions must
//! exist, `break`/`continue` only inside `range`, `else if`/`else with`
//! chains, errors as `template: NAME:LINE: message`.

use std::rc::Rc;

use super::Error;
use super::ast::{Arg, ArgKind, Branch, Command, Node, NumValue, Number, Pipe, Tree};
use super::lex::{Tok, Token, lex};
use super::literal::{number, unquote, unquote_char};

/// Parses `text` named `name`: the main tree and every `define`/`block`.
/// `has_func` says whether a function name exists.
pub fn parse(name: &str, text: &str, has_func: &dyn Fn(&str) -> bool) -> Result<Vec<Tree>, Error> {
    let text: Rc<str> = text.into();
    let parse_name: Rc<str> = name.into();
    let tokens = match lex(&text) {
        Ok(t) => t,
        Err(e) => {
            let line_of = |pos: usize| 1 + text[..pos.min(text.len())].matches('\n').count();
            let msg = match e.started {
                Some(s) => format!("{} started at {name}:{}", e.msg, line_of(s)),
                None => e.msg,
            };
            return Err(Error::Parse(format!("template: {name}:{}: {msg}", line_of(e.pos))));
        }
    };
    let mut p = Parser {
        toks: tokens,
        i: 0,
        text: text.clone(),
        name: parse_name.clone(),
        vars: vec!["$".into()],
        range_depth: 0,
        has_func,
        trees: Vec::new(),
        last_pos: 0,
        depth: 0,
    };
    let mut root = Vec::new();
    while p.i < p.toks.len() {
        if p.peek() == Some(&Tok::Left) && p.peek_non_space_at(p.i + 1) == Some(&Tok::Keyword("define")) {
            p.next();
            p.next_non_space();
            p.definition()?;
            continue;
        }
        match p.text_or_action()? {
            Item::Node(n) => root.push(n),
            Item::End => return Err(p.err("unexpected {{end}}")),
            Item::Else(..) => return Err(p.err("unexpected {{else}}")),
        }
    }
    let main = Tree { name: name.to_string(), parse_name, text, root };
    let mut trees = p.trees;
    add_tree(&mut trees, main)?;
    Ok(trees)
}

/// Go's `(*Tree).add`: an empty body never replaces a defined one.
fn add_tree(trees: &mut Vec<Tree>, t: Tree) -> Result<(), Error> {
    match trees.iter().position(|x| x.name == t.name) {
        None => trees.push(t),
        Some(i) if trees[i].is_empty() => trees[i] = t,
        Some(_) if t.is_empty() => {}
        Some(_) => {
            return Err(Error::Parse(format!(
                "template: {}: template: multiple definition of template {:?}",
                t.parse_name, t.name
            )));
        }
    }
    Ok(())
}

enum Item {
    Node(Node),
    End,
    /// `{{else}}`, and whether `if`/`with` follows it.
    Else(Option<&'static str>),
}

struct Parser<'a> {
    toks: Vec<Token>,
    i: usize,
    text: Rc<str>,
    name: Rc<str>,
    vars: Vec<String>,
    range_depth: usize,
    has_func: &'a dyn Fn(&str) -> bool,
    trees: Vec<Tree>,
    last_pos: usize,
    /// Parenthesis nesting (Go stops at 10000).
    depth: usize,
}

/// Go's `maxStackDepth` for nested parenthesized pipelines.
const MAX_PARSE_DEPTH: usize = 10000;

impl Parser<'_> {
    fn err(&self, msg: &str) -> Error {
        let line = 1 + self.text[..self.last_pos.min(self.text.len())].matches('\n').count();
        Error::Parse(format!("template: {}:{}: {}", self.name, line, msg))
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|t| &t.tok)
    }

    fn peek_non_space_at(&self, mut i: usize) -> Option<&Tok> {
        while self.toks.get(i).map(|t| &t.tok) == Some(&Tok::Space) {
            i += 1;
        }
        self.toks.get(i).map(|t| &t.tok)
    }

    fn peek_non_space(&mut self) -> Option<&Tok> {
        while self.peek() == Some(&Tok::Space) {
            self.i += 1;
        }
        self.peek()
    }

    fn pos(&self) -> usize {
        self.toks.get(self.i).map_or(self.text.len(), |t| t.pos)
    }

    /// The next token, taken out of the list (the parser never goes back).
    fn next(&mut self) -> Option<Tok> {
        let Some(t) = self.toks.get_mut(self.i) else {
            self.last_pos = self.text.len();
            return None;
        };
        self.i += 1;
        self.last_pos = t.pos;
        Some(std::mem::replace(&mut t.tok, Tok::Space))
    }

    fn next_non_space(&mut self) -> Option<Tok> {
        self.peek_non_space();
        self.next()
    }

    fn unexpected(&self, tok: Option<Tok>, context: &str) -> Error {
        self.err(&format!("unexpected {} in {context}", describe(tok.as_ref(), &self.text)))
    }

    fn expect_right(&mut self, context: &str) -> Result<(), Error> {
        match self.next_non_space() {
            Some(Tok::Right) => Ok(()),
            t => Err(self.unexpected(t, context)),
        }
    }

    fn definition(&mut self) -> Result<(), Error> {
        let name = self.template_name("define clause")?;
        self.expect_right("define clause")?;
        let saved = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let (list, end) = self.item_list()?;
        self.vars = saved;
        if !matches!(end, Item::End) {
            return Err(self.err("unexpected {{else}} in define clause"));
        }
        let t = Tree { name, parse_name: self.name.clone(), text: self.text.clone(), root: list };
        add_tree(&mut self.trees, t)
    }

    fn template_name(&mut self, context: &str) -> Result<String, Error> {
        match self.next_non_space() {
            Some(Tok::Str(q)) => unquote(&q).map_err(|e| self.err(&e)),
            t => Err(self.unexpected(t, context)),
        }
    }

    /// Nodes up to `{{end}}` or `{{else}}`.
    fn item_list(&mut self) -> Result<(Vec<Node>, Item), Error> {
        let mut list = Vec::new();
        while self.i < self.toks.len() {
            match self.text_or_action()? {
                Item::Node(n) => list.push(n),
                other => return Ok((list, other)),
            }
        }
        self.last_pos = self.text.len();
        Err(self.err("unexpected EOF"))
    }

    fn text_or_action(&mut self) -> Result<Item, Error> {
        match self.next() {
            Some(Tok::Text(r)) => Ok(Item::Node(Node::Text(r))),
            Some(Tok::Left) => self.action(),
            t => Err(self.unexpected(t, "input")),
        }
    }

    fn action(&mut self) -> Result<Item, Error> {
        let pos = self.pos();
        match self.peek_non_space().cloned() {
            Some(Tok::Keyword(k)) => {
                self.next();
                match k {
                    "block" => self.block().map(Item::Node),
                    "break" | "continue" => {
                        if self.range_depth == 0 {
                            return Err(self.err(&format!("{{{{{k}}}}} outside {{{{range}}}}")));
                        }
                        match self.next_non_space() {
                            Some(Tok::Right) => {}
                            t => return Err(self.unexpected(t, &format!("{{{{{k}}}}}"))),
                        }
                        Ok(Item::Node(if k == "break" { Node::Break(pos) } else { Node::Continue(pos) }))
                    }
                    "else" => match self.peek_non_space() {
                        Some(Tok::Keyword(k @ ("if" | "with"))) => Ok(Item::Else(Some(k))),
                        _ => {
                            self.expect_right("else")?;
                            Ok(Item::Else(None))
                        }
                    },
                    "end" => {
                        self.expect_right("end")?;
                        Ok(Item::End)
                    }
                    "if" | "range" | "with" => {
                        stacker::maybe_grow(super::exec::RED_ZONE, super::exec::STACK_SEGMENT, || self.control(k))
                            .map(Item::Node)
                    }
                    "template" => {
                        self.peek_non_space();
                        let pos = self.pos();
                        let name = self.template_name("template clause")?;
                        let pipe = if self.peek_non_space() == Some(&Tok::Right) {
                            self.next();
                            None
                        } else {
                            Some(Box::new(self.pipeline("template clause", true)?))
                        };
                        Ok(Item::Node(Node::Template { pos, name, pipe }))
                    }
                    _ => Err(self.unexpected(Some(Tok::Keyword(k)), "command")),
                }
            }
            _ => Ok(Item::Node(Node::Action(Box::new(self.pipeline("command", true)?)))),
        }
    }

    fn block(&mut self) -> Result<Node, Error> {
        self.peek_non_space();
        let pos = self.pos();
        let name = self.template_name("block clause")?;
        let pipe = self.pipeline("block clause", true)?;
        let saved = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let saved_depth = std::mem::replace(&mut self.range_depth, 0);
        let (list, end) = self.item_list()?;
        self.vars = saved;
        self.range_depth = saved_depth;
        if !matches!(end, Item::End) {
            return Err(self.err("unexpected {{else}} in block clause"));
        }
        let t = Tree { name: name.clone(), parse_name: self.name.clone(), text: self.text.clone(), root: list };
        add_tree(&mut self.trees, t)?;
        Ok(Node::Template { pos, name, pipe: Some(Box::new(pipe)) })
    }

    fn control(&mut self, context: &'static str) -> Result<Node, Error> {
        let nvars = self.vars.len();
        let pipe = self.pipeline(context, true)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let (list, next) = self.item_list()?;
        if context == "range" {
            self.range_depth -= 1;
        }
        let else_list = match next {
            Item::End => None,
            Item::Else(Some(k)) if k == context && context != "range" => {
                self.next_non_space();
                Some(vec![self.control(context)?])
            }
            Item::Else(..) => {
                let (list, next) = self.item_list()?;
                if !matches!(next, Item::End) {
                    return Err(self.err("expected end; found {{else}}"));
                }
                Some(list)
            }
            Item::Node(_) => unreachable!("item_list stops at end or else"),
        };
        self.vars.truncate(nvars);
        let branch = Branch { pos: pipe.pos, pipe, list, else_list };
        Ok(match context {
            "if" => Node::If(Box::new(branch)),
            "range" => Node::Range(Box::new(branch)),
            _ => Node::With(Box::new(branch)),
        })
    }

    /// A pipeline up to `}}` (`in_action`) or `)`.
    fn pipeline(&mut self, context: &str, in_action: bool) -> Result<Pipe, Error> {
        self.peek_non_space();
        let mut pipe = Pipe { pos: self.pos(), decl: Vec::new(), is_assign: false, cmds: Vec::new() };
        // Declarations: `$x :=`, `$x =`, `$i, $e :=` (range only).
        while let Some(Tok::Variable(v)) = self.peek_non_space().cloned() {
            let after = self.peek_non_space_at(self.i + 1).cloned();
            match after {
                Some(Tok::Declare | Tok::Assign) => {
                    self.next();
                    pipe.is_assign = self.next_non_space() == Some(Tok::Assign);
                    if pipe.is_assign {
                        if !self.vars.contains(&v) {
                            return Err(self.err(&format!("undefined variable {v:?}")));
                        }
                    } else {
                        self.vars.push(v.clone());
                    }
                    pipe.decl.push(v.into());
                    break;
                }
                Some(Tok::Other(',')) => {
                    self.next();
                    self.next_non_space();
                    pipe.decl.push(v.into());
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space() {
                            Some(Tok::Variable(_) | Tok::Right | Tok::RParen) => continue,
                            _ => return Err(self.err("range can only initialize variables")),
                        }
                    }
                    return Err(self.err(&format!("too many declarations in {context}")));
                }
                _ => break,
            }
        }
        if pipe.decl.len() == 2 && !pipe.is_assign {
            // The first of two range variables is declared too.
            let first = pipe.decl[0].clone();
            let n = self.vars.len();
            self.vars.insert(n - 1, first.to_string());
        }
        let end = if in_action { Tok::Right } else { Tok::RParen };
        loop {
            match self.peek_non_space() {
                Some(t) if *t == end => {
                    self.next();
                    break;
                }
                Some(
                    Tok::Bool(_)
                    | Tok::Char(_)
                    | Tok::Dot
                    | Tok::Field(_)
                    | Tok::Ident(_)
                    | Tok::Number(_)
                    | Tok::Nil
                    | Tok::Str(_)
                    | Tok::Variable(_)
                    | Tok::LParen,
                ) => {
                    let c = self.command()?;
                    pipe.cmds.push(c);
                }
                _ => {
                    let t = self.next();
                    return Err(self.unexpected(t, context));
                }
            }
        }
        if pipe.cmds.is_empty() {
            return Err(self.err(&format!("missing value for {context}")));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                c.args[0].kind,
                ArgKind::Bool(_) | ArgKind::Dot | ArgKind::Nil | ArgKind::Number(_) | ArgKind::Str(..)
            ) {
                return Err(self.err(&format!("non executable command in pipeline stage {}", i + 1)));
            }
        }
        Ok(pipe)
    }

    fn command(&mut self) -> Result<Command, Error> {
        self.peek_non_space();
        let mut cmd = Command { pos: self.pos(), args: Vec::new() };
        loop {
            self.peek_non_space();
            if let Some(a) = self.operand()? {
                cmd.args.push(a);
            }
            match self.peek() {
                Some(Tok::Space) => {
                    self.next();
                    continue;
                }
                Some(Tok::Right | Tok::RParen) => {}
                Some(Tok::Pipe) => {
                    self.next();
                }
                _ => {
                    let t = self.next();
                    return Err(self.unexpected(t, "operand"));
                }
            }
            break;
        }
        if cmd.args.is_empty() {
            return Err(self.err("empty command"));
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> Result<Option<Arg>, Error> {
        let Some(term) = self.term()? else { return Ok(None) };
        if !matches!(self.peek(), Some(Tok::Field(_))) {
            return Ok(Some(term));
        }
        let chain_pos = self.pos();
        let mut fields = Vec::new();
        while let Some(Tok::Field(f)) = self.peek().cloned() {
            self.next();
            fields.push(f);
        }
        let kind = match term.kind {
            ArgKind::Field(mut fs) => {
                fs.extend(fields);
                ArgKind::Field(fs)
            }
            ArgKind::Variable(v, mut fs) => {
                fs.extend(fields);
                ArgKind::Variable(v, fs)
            }
            ArgKind::Bool(_) | ArgKind::Str(..) | ArgKind::Number(_) | ArgKind::Nil | ArgKind::Dot => {
                return Err(self.err(&format!("unexpected . after term {:?}", term.to_string())));
            }
            _ => ArgKind::Chain(Box::new(term), fields),
        };
        Ok(Some(Arg { pos: chain_pos, kind }))
    }

    fn term(&mut self) -> Result<Option<Arg>, Error> {
        let pos = self.pos();
        let kind = match self.peek_non_space().cloned() {
            Some(Tok::Ident(name)) => {
                if !(self.has_func)(&name) {
                    self.next();
                    return Err(self.err(&format!("function {name:?} not defined")));
                }
                ArgKind::Ident(name)
            }
            Some(Tok::Dot) => ArgKind::Dot,
            Some(Tok::Nil) => ArgKind::Nil,
            Some(Tok::Variable(v)) => {
                if !self.vars.contains(&v) {
                    self.next();
                    return Err(self.err(&format!("undefined variable {v:?}")));
                }
                ArgKind::Variable(v, Vec::new())
            }
            Some(Tok::Field(f)) => ArgKind::Field(vec![f]),
            Some(Tok::Bool(b)) => ArgKind::Bool(b),
            Some(Tok::Number(n)) => {
                self.next();
                let value = number(&n).map_err(|e| self.err(&e))?;
                return Ok(Some(Arg { pos, kind: ArgKind::Number(Number { text: n, value }) }));
            }
            Some(Tok::Char(c)) => {
                self.next();
                let s = unquote_char(&c).map_err(|e| self.err(&e))?;
                let kind = ArgKind::Number(Number { text: c, value: NumValue::Int(s as i64) });
                return Ok(Some(Arg { pos, kind }));
            }
            Some(Tok::LParen) => {
                self.next();
                self.depth += 1;
                if self.depth >= MAX_PARSE_DEPTH {
                    return Err(self.err("max expression depth exceeded"));
                }
                let p = stacker::maybe_grow(super::exec::RED_ZONE, super::exec::STACK_SEGMENT, || {
                    self.pipeline("parenthesized pipeline", false)
                })?;
                self.depth -= 1;
                return Ok(Some(Arg { pos: p.pos, kind: ArgKind::Pipe(p) }));
            }
            Some(Tok::Str(q)) => {
                self.next();
                let s = unquote(&q).map_err(|e| self.err(&e))?;
                return Ok(Some(Arg { pos, kind: ArgKind::Str(s.into(), q) }));
            }
            _ => return Ok(None),
        };
        self.next();
        Ok(Some(Arg { pos, kind }))
    }
}

/// How Go's parser names a token in `unexpected ...` errors.
fn describe(t: Option<&Tok>, text: &str) -> String {
    let q = |s: &str| {
        if s.chars().count() > 10 {
            format!("{}...", super::fmt::quote(&s.chars().take(10).collect::<String>()))
        } else {
            super::fmt::quote(s)
        }
    };
    match t {
        None => "EOF".into(),
        Some(Tok::Keyword(k)) => format!("<{k}>"),
        Some(Tok::Bool(b)) => q(&b.to_string()),
        Some(Tok::Nil) => "<nil>".into(),
        Some(Tok::Text(r)) => q(&text[r.clone()]),
        Some(Tok::Ident(s) | Tok::Number(s) | Tok::Str(s) | Tok::Char(s) | Tok::Variable(s)) => q(s),
        Some(Tok::Field(f)) => q(&format!(".{f}")),
        Some(Tok::Left) => q("{{"),
        Some(Tok::Right) => q("}}"),
        Some(Tok::Space) => q(" "),
        Some(Tok::Dot) => "<.>".into(),
        Some(Tok::Pipe) => q("|"),
        Some(Tok::LParen) => q("("),
        Some(Tok::RParen) => q(")"),
        Some(Tok::Declare) => q(":="),
        Some(Tok::Assign) => q("="),
        Some(Tok::Other(c)) => q(&c.to_string()),
    }
}
