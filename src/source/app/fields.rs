//! Reading one mapping of an Application document field by field: typed
//! getters that name the full field path in errors, and a final check that
//! warns about every key nobody asked for (unknown fields are never dropped
//! silently).

use std::cell::RefCell;
use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Where a document came from, and the warnings collected while reading it.
pub(crate) struct Loc {
    pub file: String,
    pub line: usize,
    pub warnings: RefCell<Vec<String>>,
}

impl Loc {
    pub fn new(file: &str, line: usize) -> Self {
        Loc { file: file.to_string(), line, warnings: RefCell::new(Vec::new()) }
    }

    pub fn err(&self, field: &str, message: impl Into<String>) -> Error {
        Error::App { file: self.file.clone(), line: self.line, field: field.to_string(), message: message.into() }
    }

    pub fn warn(&self, field: &str, message: &str) {
        let w = format!("{}:{}: {field}: {message}", self.file, self.line);
        tracing::warn!("{w}");
        self.warnings.borrow_mut().push(w);
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// The keys of one mapping, read one by one.
pub(crate) struct Fields<'a> {
    loc: &'a Loc,
    path: String,
    map: Option<&'a Map<String, Value>>,
    seen: Vec<&'static str>,
}

impl<'a> Fields<'a> {
    /// `value` must be a mapping (null counts as an empty one).
    pub fn new(loc: &'a Loc, path: impl Into<String>, value: &'a Value) -> Result<Self> {
        let path = path.into();
        let map = match value {
            Value::Object(m) => Some(m),
            Value::Null => None,
            other => return Err(loc.err(&path, format!("expected a mapping, got {}", type_name(other)))),
        };
        Ok(Fields { loc, path, map, seen: Vec::new() })
    }

    pub fn loc(&self) -> &'a Loc {
        self.loc
    }

    /// The path of this mapping.
    pub fn here(&self) -> &str {
        &self.path
    }

    pub fn path_of(&self, key: &str) -> String {
        if self.path.is_empty() { key.to_string() } else { format!("{}.{key}", self.path) }
    }

    /// The whole mapping as written (null: an empty mapping).
    pub fn raw(&self) -> Value {
        Value::Object(self.map.cloned().unwrap_or_default())
    }

    /// The raw value of `key` (null counts as absent).
    pub fn get(&mut self, key: &'static str) -> Option<&'a Value> {
        self.seen.push(key);
        self.map.and_then(|m| m.get(key)).filter(|v| !v.is_null())
    }

    fn wrong(&self, key: &str, want: &str, got: &Value) -> Error {
        let hint =
            if want == "a string" && matches!(got, Value::Number(_) | Value::Bool(_)) { " (quote it)" } else { "" };
        self.loc.err(&self.path_of(key), format!("expected {want}, got {}{hint}", type_name(got)))
    }

    pub fn string(&mut self, key: &'static str) -> Result<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(self.wrong(key, "a string", v)),
        }
    }

    pub fn bool(&mut self, key: &'static str) -> Result<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => Err(self.wrong(key, "a boolean", v)),
        }
    }

    pub fn int(&mut self, key: &'static str) -> Result<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64()),
            Some(v) => Err(self.wrong(key, "an integer", v)),
        }
    }

    pub fn strings(&mut self, key: &'static str) -> Result<Vec<String>> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(self.loc.err(
                        &format!("{}[{i}]", self.path_of(key)),
                        format!("expected a string, got {}", type_name(other)),
                    )),
                })
                .collect(),
            Some(v) => Err(self.wrong(key, "a list of strings", v)),
        }
    }

    pub fn string_map(&mut self, key: &'static str) -> Result<BTreeMap<String, String>> {
        match self.get(key) {
            None => Ok(BTreeMap::new()),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    other => Err(self.loc.err(
                        &format!("{}.{k}", self.path_of(key)),
                        format!("expected a string, got {}", type_name(other)),
                    )),
                })
                .collect(),
            Some(v) => Err(self.wrong(key, "a mapping of strings", v)),
        }
    }

    pub fn object(&mut self, key: &'static str) -> Result<Option<Fields<'a>>> {
        let path = self.path_of(key);
        match self.get(key) {
            None => Ok(None),
            Some(v @ Value::Object(_)) => Fields::new(self.loc, path, v).map(Some),
            Some(v) => Err(self.wrong(key, "a mapping", v)),
        }
    }

    /// A list of mappings, each read with `f`.
    pub fn objects<T>(&mut self, key: &'static str, mut f: impl FnMut(Fields<'a>) -> Result<T>) -> Result<Vec<T>> {
        let path = self.path_of(key);
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => {
                items.iter().enumerate().map(|(i, v)| f(Fields::new(self.loc, format!("{path}[{i}]"), v)?)).collect()
            }
            Some(v) => Err(self.wrong(key, "a list", v)),
        }
    }

    /// A field this tool knows but does not act on: warn when it is set.
    pub fn unsupported(&mut self, key: &'static str) {
        if self.get(key).is_some() {
            self.loc.warn(&self.path_of(key), "not supported yet; ignored");
        }
    }

    /// A field that is accepted and deliberately has no effect here.
    pub fn accept(&mut self, key: &'static str) {
        self.seen.push(key);
    }

    /// Warn about every key that was not read.
    pub fn finish(self) {
        let Some(map) = self.map else { return };
        for key in map.keys() {
            if !self.seen.contains(&key.as_str()) {
                self.loc.warn(&self.path_of(key), "unknown field; ignored");
            }
        }
    }
}
