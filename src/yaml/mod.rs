//! YAML reading and writing for the whole pipeline.
//!
//! Reading tries [`fast`] (the common block subset, several times faster)
//! and otherwise composes saphyr-parser's event stream straight into
//! `serde_json::Value` (the object model's data), resolving scalars per
//! [`Dialect`], expanding anchors/aliases and `<<` merge keys, rejecting
//! duplicate keys, and recording each document's first line. Writing
//! ([`emit`]) produces block YAML that reads back identically in both
//! dialects. Nothing here knows about Kubernetes.

mod emit;
mod fast;
#[cfg(test)]
mod fast_tests;
mod resolve;

pub use emit::{to_yaml_string, write_yaml, write_yaml_map};
pub use resolve::{Dialect, float_to_json};

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, Tag};
use serde_json::{Map, Value};

use resolve::{Scalar, resolve_plain, scalar_to_json};

/// One document of a YAML stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub value: Value,
    /// 1-based line where the document's content starts.
    pub line: usize,
}

/// A YAML syntax or structure error with its position (1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct YamlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Deepest nesting accepted by default, so hostile input cannot overflow the stack.
pub const MAX_DEPTH: usize = 256;
/// What alias expansion may copy in one stream by default, in weight units
/// (about a byte each: see [`weight`]): the "billion laughs" guard.
pub const MAX_ALIAS_WEIGHT: u64 = 64 << 20;

/// Bounds for reading one stream. Depth counts the value as it is after
/// alias expansion, so an alias of a deep anchor cannot nest past it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseLimits {
    pub max_depth: usize,
    /// Most weight that aliases may copy in the whole stream.
    pub max_alias_weight: u64,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits { max_depth: MAX_DEPTH, max_alias_weight: MAX_ALIAS_WEIGHT }
    }
}

/// A stream's documents and what its aliases expanded to.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub docs: Vec<Document>,
    /// Weight copied by alias expansion (0 without aliases).
    pub alias_weight: u64,
}

/// Parse every document of a YAML stream. Documents that are empty (or only
/// comments) are returned as `Value::Null`; callers decide whether to skip.
pub fn parse_stream(text: &str, dialect: Dialect) -> Result<Vec<Document>, YamlError> {
    parse_stream_with(text, dialect, DuplicateKeys::Error)
}

/// What a repeated mapping key means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuplicateKeys {
    /// An error (manifests: what kubectl's strict field validation does).
    Error,
    /// The last value wins (go-yaml's non-strict decoding: Helm values, live objects).
    LastWins,
}

/// [`parse_stream`] with an explicit duplicate-key rule.
pub fn parse_stream_with(text: &str, dialect: Dialect, duplicates: DuplicateKeys) -> Result<Vec<Document>, YamlError> {
    parse_stream_limited(text, dialect, duplicates, ParseLimits::default()).map(|p| p.docs)
}

/// [`parse_stream_with`] within `limits`, also telling what aliases expanded to.
pub fn parse_stream_limited(
    text: &str,
    dialect: Dialect,
    duplicates: DuplicateKeys,
    limits: ParseLimits,
) -> Result<Parsed, YamlError> {
    if let Ok(docs) = fast::parse_stream(text, dialect, duplicates, limits.max_depth) {
        return Ok(Parsed { docs, alias_weight: 0 });
    }
    parse_stream_full(text, dialect, duplicates, limits)
}

/// [`parse_stream_limited`] by composing saphyr-parser's events (whatever
/// [`fast`] leaves alone goes here, errors included).
fn parse_stream_full(
    text: &str,
    dialect: Dialect,
    duplicates: DuplicateKeys,
    limits: ParseLimits,
) -> Result<Parsed, YamlError> {
    let mut c = Composer {
        parser: Parser::new_from_str(text),
        dialect,
        duplicates,
        limits,
        anchors: HashMap::new(),
        alias_weight: 0,
        last_span: Span::default(),
    };
    let mut docs = Vec::new();
    loop {
        let (ev, span) = c.next()?;
        match ev {
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                c.anchors.clear();
                let (ev, span) = c.next()?;
                let line = span.start.line();
                let value = c.node(ev, span, 0)?.value;
                docs.push(Document { value, line });
            }
            other => return Err(c.err(span, format!("unexpected YAML event {other:?}"))),
        }
    }
    Ok(Parsed { docs, alias_weight: c.alias_weight })
}

/// Parse a single-document YAML text (an error if it holds several).
pub fn parse_one(text: &str, dialect: Dialect) -> Result<Value, YamlError> {
    let mut docs = parse_stream(text, dialect)?;
    match docs.len() {
        0 => Ok(Value::Null),
        1 => Ok(docs.remove(0).value),
        _ => Err(YamlError {
            line: docs[1].line,
            column: 1,
            message: "expected a single YAML document, found several".into(),
        }),
    }
}

struct Composer<'a> {
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    dialect: Dialect,
    duplicates: DuplicateKeys,
    limits: ParseLimits,
    anchors: HashMap<usize, Node>,
    alias_weight: u64,
    last_span: Span,
}

/// A composed value with its height (1 for a scalar) and [`weight`].
#[derive(Clone)]
struct Node {
    value: Value,
    height: usize,
    weight: u64,
}

impl Node {
    fn scalar(value: Value) -> Node {
        let weight = 8 + scalar_len(&value);
        Node { value, height: 1, weight }
    }
}

/// What a node costs: 8 per node plus the bytes of its strings and keys.
fn scalar_len(v: &Value) -> u64 {
    match v {
        Value::String(s) => s.len() as u64,
        _ => 0,
    }
}

impl<'a> Composer<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), YamlError> {
        match self.parser.next_event() {
            Some(Ok((ev, span))) => {
                self.last_span = span;
                Ok((ev, span))
            }
            Some(Err(e)) => Err(scan_error(&e)),
            None => Err(self.err(self.last_span, "unexpected end of YAML stream".into())),
        }
    }

    fn err(&self, span: Span, message: String) -> YamlError {
        YamlError { line: span.start.line(), column: span.start.col() + 1, message }
    }

    fn depth_error(&self, span: Span) -> YamlError {
        self.err(span, format!("nesting deeper than {} levels", self.limits.max_depth))
    }

    fn node(&mut self, ev: Event<'a>, span: Span, depth: usize) -> Result<Node, YamlError> {
        if depth >= self.limits.max_depth {
            return Err(self.depth_error(span));
        }
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let n = Node::scalar(self.scalar(&text, style, tag.as_deref(), span)?);
                self.remember(anchor, &n);
                Ok(n)
            }
            Event::Alias(id) => {
                let n = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| self.err(span, "alias to an unknown anchor".into()))?;
                // The copy nests where the alias stands: its height counts from here.
                if depth + n.height > self.limits.max_depth {
                    return Err(self.err(
                        span,
                        format!("nesting deeper than {} levels (after alias expansion)", self.limits.max_depth),
                    ));
                }
                self.alias_weight = self.alias_weight.saturating_add(n.weight);
                if self.alias_weight > self.limits.max_alias_weight {
                    return Err(self.err(
                        span,
                        format!(
                            "document contains excessive aliasing (aliases expand past {} KiB)",
                            self.limits.max_alias_weight / 1024
                        ),
                    ));
                }
                Ok(n)
            }
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                let (mut height, mut weight) = (0, 8u64);
                loop {
                    let (ev, span) = self.next()?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    let n = self.node(ev, span, depth + 1)?;
                    height = height.max(n.height);
                    weight = weight.saturating_add(n.weight);
                    items.push(n.value);
                }
                let n = Node { value: Value::Array(items), height: height + 1, weight };
                self.remember(anchor, &n);
                Ok(n)
            }
            Event::MappingStart(anchor, _) => {
                let n = self.mapping(depth, span)?;
                self.remember(anchor, &n);
                Ok(n)
            }
            other => Err(self.err(span, format!("unexpected YAML event {other:?}"))),
        }
    }

    fn mapping(&mut self, depth: usize, span: Span) -> Result<Node, YamlError> {
        let mut map = Map::new();
        let (mut height, mut weight) = (0, 8u64);
        // Keys merged in through `<<`; explicit keys override them.
        let mut merged: Vec<Map<String, Value>> = Vec::new();
        loop {
            let (kev, kspan) = self.next()?;
            if matches!(kev, Event::MappingEnd) {
                break;
            }
            let is_merge = matches!(&kev, Event::Scalar(t, ScalarStyle::Plain, _, None) if t == "<<");
            let key = if is_merge { None } else { Some(self.key(kev, kspan, depth)?) };
            let (vev, vspan) = self.next()?;
            let node = self.node(vev, vspan, depth + 1)?;
            height = height.max(node.height);
            weight = weight.saturating_add(node.weight);
            let value = node.value;
            match key {
                None => match value {
                    Value::Object(m) => merged.push(m),
                    Value::Array(items) => {
                        for item in items {
                            match item {
                                Value::Object(m) => merged.push(m),
                                _ => {
                                    return Err(self.err(vspan, "map merge requires maps or a sequence of maps".into()));
                                }
                            }
                        }
                    }
                    _ => return Err(self.err(vspan, "map merge requires maps or a sequence of maps".into())),
                },
                Some(k) => {
                    if self.duplicates == DuplicateKeys::Error && map.contains_key(&k) {
                        return Err(self.err(kspan, format!("key {k:?} already set in map")));
                    }
                    weight = weight.saturating_add(k.len() as u64);
                    map.insert(k, value);
                }
            }
        }
        // Earlier merge sources win over later ones; explicit keys win over all.
        for m in merged {
            for (k, v) in m {
                map.entry(k).or_insert(v);
            }
        }
        if depth + height >= self.limits.max_depth {
            return Err(self.depth_error(span));
        }
        Ok(Node { value: Value::Object(map), height: height + 1, weight })
    }

    /// A mapping key as a JSON string, converted as sigs.k8s.io/yaml does.
    fn key(&mut self, ev: Event<'a>, span: Span, depth: usize) -> Result<String, YamlError> {
        let v = self.node(ev, span, depth + 1)?.value;
        match v {
            Value::String(s) => Ok(s),
            Value::Bool(b) => Ok(b.to_string()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Null => Err(self.err(span, "a null mapping key is not supported".into())),
            _ => Err(self.err(span, "a mapping or sequence as a mapping key is not supported".into())),
        }
    }

    fn scalar(&self, text: &str, style: ScalarStyle, tag: Option<&Tag>, span: Span) -> Result<Value, YamlError> {
        if let Some(tag) = tag {
            return self.tagged_scalar(text, style, tag, span);
        }
        if style != ScalarStyle::Plain {
            return Ok(Value::String(text.to_string()));
        }
        let resolved = resolve_plain(text, self.dialect);
        scalar_to_json(resolved, text).map_err(|m| self.err(span, m))
    }

    fn tagged_scalar(&self, text: &str, style: ScalarStyle, tag: &Tag, span: Span) -> Result<Value, YamlError> {
        if !tag.is_yaml_core_schema() {
            // Local tags (`!foo`) carry no meaning for manifests: read the
            // scalar as if untagged.
            return self.scalar(text, style, None, span);
        }
        // The scalar's text is not quoted: it may be a Secret's value.
        let fail = |what: &str| self.err(span, format!("cannot read this scalar as !!{what}"));
        match tag.suffix.as_str() {
            "str" => Ok(Value::String(text.to_string())),
            "binary" => Ok(Value::String(text.split_whitespace().collect())),
            "null" => Ok(Value::Null),
            "bool" => match resolve_plain(text, self.dialect) {
                Scalar::Bool(b) => Ok(Value::Bool(b)),
                _ => Err(fail("bool")),
            },
            "int" => match resolve_plain(text, self.dialect) {
                s @ (Scalar::Int(_) | Scalar::Uint(_)) => scalar_to_json(s, text).map_err(|m| self.err(span, m)),
                _ => Err(fail("int")),
            },
            "float" => match resolve_plain(text, self.dialect) {
                Scalar::Int(i) => scalar_to_json(Scalar::Float(i as f64), text).map_err(|m| self.err(span, m)),
                s @ Scalar::Float(_) => scalar_to_json(s, text).map_err(|m| self.err(span, m)),
                _ => Err(fail("float")),
            },
            _ => Ok(Value::String(text.to_string())),
        }
    }

    fn remember(&mut self, anchor: usize, n: &Node) {
        if anchor != 0 {
            self.anchors.insert(anchor, n.clone());
        }
    }
}

fn scan_error(e: &ScanError) -> YamlError {
    YamlError { line: e.marker().line(), column: e.marker().col() + 1, message: e.info().to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(text: &str) -> Value {
        parse_one(text, Dialect::Kubectl).unwrap()
    }

    #[test]
    fn documents_and_lines() {
        let docs = parse_stream("a: 1\n---\n# only a comment\n---\n\nb: 2\n", Dialect::Kubectl).unwrap();
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0], Document { value: json!({"a": 1}), line: 1 });
        assert_eq!(docs[1].value, Value::Null);
        assert_eq!(docs[2], Document { value: json!({"b": 2}), line: 6 });
    }

    #[test]
    fn scalars_follow_dialect() {
        let text =
            "mode: 0644\nenabled: yes\nflag: on\nq: \"0644\"\nf: 1e3\nh: .5\nnothing: ~\nt: !!str 12\nk8s: 1.20\n";
        assert_eq!(
            one(text),
            json!({"mode": 420, "enabled": true, "flag": true, "q": "0644", "f": 1000, "h": 0.5, "nothing": null, "t": "12", "k8s": 1.2})
        );
        let kz = parse_one(text, Dialect::Kustomize).unwrap();
        assert_eq!(kz["flag"], json!("on"));
        assert_eq!(kz["enabled"], json!("yes"));
    }

    #[test]
    fn keys_are_stringified_like_sigs_yaml() {
        // go-yaml v2 reads `on`, `y` and `n` keys as booleans; sigs.k8s.io/yaml stringifies them.
        assert_eq!(one("on: 1\n3: x\nn: 2\n"), json!({"true": 1, "3": "x", "false": 2}));
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let text = "base: &b {x: 1, w: 2}\nother: &o {w: 9, z: 3}\nc:\n  <<: [*b, *o]\n  x: 10\nd: *b\n";
        let v = one(text);
        assert_eq!(v["c"], json!({"x": 10, "w": 2, "z": 3}));
        assert_eq!(v["d"], json!({"x": 1, "w": 2}));
    }

    #[test]
    fn duplicate_keys_are_errors_with_position() {
        let e = parse_one("a: 1\nb: 2\na: 3\n", Dialect::Kubectl).unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("\"a\" already set"), "{e}");
    }

    #[test]
    fn duplicate_keys_can_be_lenient() {
        let docs = parse_stream_with("a: 1\na: 2\n", Dialect::Kubectl, DuplicateKeys::LastWins).unwrap();
        assert_eq!(docs[0].value, json!({"a": 2}));
    }

    #[test]
    fn syntax_errors_have_positions() {
        let e = parse_one("a: [1, 2\nb: 3\n", Dialect::Kubectl).unwrap_err();
        assert!(e.line >= 1, "{e}");
        let e = parse_one("a: 1\n  b: 2\n", Dialect::Kubectl).unwrap_err();
        assert_eq!(e.line, 2, "{e}");
    }

    #[test]
    fn nan_is_rejected() {
        assert!(parse_one("a: .nan\n", Dialect::Kubectl).is_err());
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let e = parse_one(&text, Dialect::Kubectl).unwrap_err();
        assert!(e.message.contains("aliasing"), "{e}");
    }

    #[test]
    fn json_is_yaml() {
        assert_eq!(one("{\"a\": [1, 2.5, \"x\", null, true]}"), json!({"a": [1, 2.5, "x", null, true]}));
    }
}
