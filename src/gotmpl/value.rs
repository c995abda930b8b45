//! The value model: Go's `interface{}` values as templates see them.
//!
//! Go keeps static types that charts can observe (`%T`, `typeOf`, `kindOf`,
//! comparison errors), so every value carries its Go type: integers keep
//! their width (`int` from literals and `len`, `int64` from `--set`), floats
//! are `float64`, lists say whether they are `[]interface {}` or `[]string`.
//! Maps are reference values (`Rc<RefCell<..>>`): a mutation through one
//! handle is seen through every other, as with Go maps. [`Value::Missing`]
//! is Go's invalid `reflect.Value` (a missing map key, printed `<no value>`);
//! [`Value::Nil`] is a nil `interface{}` held in a map or list.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

use super::Error;
use super::ctx::Ctx;

/// Go's integer types (the ones charts meet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntType {
    Int,
    Int8,
    Int16,
    Int32,
    Int64,
    Uint,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
}

impl IntType {
    /// The Go type name (`int64`); also its kind name.
    pub fn name(self) -> &'static str {
        match self {
            IntType::Int => "int",
            IntType::Int8 => "int8",
            IntType::Int16 => "int16",
            IntType::Int32 => "int32",
            IntType::Int64 => "int64",
            IntType::Uint => "uint",
            IntType::Uint8 => "uint8",
            IntType::Uint16 => "uint16",
            IntType::Uint32 => "uint32",
            IntType::Uint64 => "uint64",
        }
    }

    /// Whether this is one of Go's unsigned types.
    pub fn is_unsigned(self) -> bool {
        matches!(self, IntType::Uint | IntType::Uint8 | IntType::Uint16 | IntType::Uint32 | IntType::Uint64)
    }
}

/// A list: `[]interface {}` unless `ty` says otherwise (`[]string`).
#[derive(Clone, Debug)]
pub struct List {
    pub items: Rc<Vec<Value>>,
    /// The Go type name, e.g. `[]interface {}` or `[]string`.
    pub ty: &'static str,
}

impl List {
    /// The bytes of a `[]byte` (`.Files.GetBytes`), else `None`.
    pub fn bytes(&self) -> Option<Vec<u8>> {
        (self.ty == BYTES_TYPE)
            .then(|| self.items.iter().map(|b| if let Value::Int(i, _) = b { *i as u8 } else { 0 }).collect())
    }
}

/// The Go type of a generic list.
pub const LIST_TYPE: &str = "[]interface {}";
/// The Go type of a string list (Sprig's `splitList`, `keys`, ...).
pub const STRING_LIST_TYPE: &str = "[]string";
/// The Go type of a generic map.
pub const MAP_TYPE: &str = "map[string]interface {}";
/// helm's `common.Values` (`.Values`, `.Template`): a named
/// `map[string]interface {}`, assignable to one.
pub const VALUES_TYPE: &str = "common.Values";
/// The Go type of a `[]byte` (`encoding/json` writes it in base64).
pub const BYTES_TYPE: &str = "[]uint8";

/// A shared, mutable `map[string]...`; clones share the entries.
#[derive(Clone, Debug)]
pub struct Map {
    pub entries: Rc<RefCell<BTreeMap<String, Value>>>,
    /// The Go type name, e.g. `map[string]interface {}`.
    pub ty: &'static str,
}

impl Map {
    /// A new empty `map[string]interface {}`.
    pub fn new() -> Map {
        Map::from_entries(BTreeMap::new())
    }

    pub fn from_entries(entries: BTreeMap<String, Value>) -> Map {
        Map { entries: Rc::new(RefCell::new(entries)), ty: MAP_TYPE }
    }

    pub fn get(&self, key: &str) -> Option<Value> {
        self.entries.borrow().get(key).cloned()
    }

    pub fn insert(&self, key: impl Into<String>, value: Value) {
        self.entries.borrow_mut().insert(key.into(), value);
    }

    /// Removes a key (Sprig's `unset`), returning its value.
    pub fn remove(&self, key: &str) -> Option<Value> {
        self.entries.borrow_mut().remove(key)
    }

    /// The keys, sorted.
    pub fn keys(&self) -> Vec<String> {
        self.entries.borrow().keys().cloned().collect()
    }

    /// Whether two handles share the same entries (Go map identity).
    pub fn same(&self, other: &Map) -> bool {
        Rc::ptr_eq(&self.entries, &other.entries)
    }

    pub fn len(&self) -> usize {
        self.entries.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.borrow().is_empty()
    }
}

impl Default for Map {
    fn default() -> Self {
        Map::new()
    }
}

/// How many arguments a function takes (checked before the call, with
/// Go's `wrong number of args` errors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arity {
    Exact(usize),
    AtLeast(usize),
}

/// A function's body: the arguments (already evaluated, [`Value::Missing`]
/// passed as [`Value::Nil`]) and a handle on the running execution.
pub type FuncBody = dyn Fn(&mut Ctx<'_>, &[Value]) -> Result<Value, Error>;

/// A template function, a method bound to its receiver, or a func value.
#[derive(Clone)]
pub struct Func {
    pub name: Rc<str>,
    pub arity: Arity,
    /// Go parameter types, checked before the call as Go checks them
    /// (`expected string; found 1`, `wrong type for value; expected
    /// string; got int`); the last one also types the variadic arguments
    /// when the arity is `AtLeast`. Empty: every parameter is `interface{}`.
    pub params: Rc<[Param]>,
    pub body: Rc<FuncBody>,
    /// Reads a string argument's bytes ([`Value::RawString`] passed as
    /// it is); other functions get such an argument as its text.
    pub raw_strings: bool,
}

/// A Go parameter type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Param {
    /// `interface{}`: anything, nil included.
    Any,
    String,
    Bool,
    /// `int` (not `int64`: Go does not convert).
    Int,
    Int64,
    Float64,
    /// `map[string]interface{}` (named map types too).
    Map,
    /// `[]interface{}`.
    List,
    /// `[]string`.
    StringList,
}

impl Param {
    /// The Go type name.
    pub fn name(self) -> &'static str {
        match self {
            Param::Any => "interface {}",
            Param::String => "string",
            Param::Bool => "bool",
            Param::Int => "int",
            Param::Int64 => "int64",
            Param::Float64 => "float64",
            Param::Map => MAP_TYPE,
            Param::List => LIST_TYPE,
            Param::StringList => STRING_LIST_TYPE,
        }
    }

    /// Whether a nil can be passed (Go's `canBeNil`).
    pub fn can_be_nil(self) -> bool {
        matches!(self, Param::Any | Param::Map | Param::List | Param::StringList)
    }

    /// Whether a (non-nil) value is assignable to this type.
    pub fn accepts(self, v: &Value) -> bool {
        match (self, v) {
            (Param::Any, _) => true,
            (Param::String, Value::String(_) | Value::RawString(_))
            | (Param::Bool, Value::Bool(_))
            | (Param::Float64, Value::Float(_)) => true,
            (Param::Int, Value::Int(_, IntType::Int)) | (Param::Int64, Value::Int(_, IntType::Int64)) => true,
            (Param::Map, Value::Map(_)) => true,
            (Param::List, Value::List(l)) => l.ty == LIST_TYPE,
            (Param::StringList, Value::List(l)) => l.ty == STRING_LIST_TYPE,
            _ => false,
        }
    }
}

impl Func {
    /// A function whose parameters are all `interface{}`.
    pub fn new(
        name: &str,
        arity: Arity,
        body: impl Fn(&mut Ctx<'_>, &[Value]) -> Result<Value, Error> + 'static,
    ) -> Func {
        Func { name: name.into(), arity, params: Rc::from([]), body: Rc::new(body), raw_strings: false }
    }

    /// A function with typed parameters; `variadic` makes the last one
    /// repeatable (`func(format string, a ...interface{})`).
    pub fn typed(
        name: &str,
        params: &[Param],
        variadic: bool,
        body: impl Fn(&mut Ctx<'_>, &[Value]) -> Result<Value, Error> + 'static,
    ) -> Func {
        let arity = if variadic { Arity::AtLeast(params.len().saturating_sub(1)) } else { Arity::Exact(params.len()) };
        Func { name: name.into(), arity, params: Rc::from(params), body: Rc::new(body), raw_strings: false }
    }

    /// This function reads its string arguments' bytes (see [`Value::RawString`]).
    pub fn reading_bytes(mut self) -> Func {
        self.raw_strings = true;
        self
    }

    /// The type of argument `i`.
    pub fn param(&self, i: usize) -> Param {
        match self.params.get(i) {
            Some(p) => *p,
            None if matches!(self.arity, Arity::AtLeast(_)) => self.params.last().copied().unwrap_or(Param::Any),
            None => Param::Any,
        }
    }
}

impl fmt::Debug for Func {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "func {}", self.name)
    }
}

/// A Go struct or pointer with fields and methods (helm's `.Files`,
/// `.Capabilities`). `underlying` lets a named slice or map type
/// (`VersionSet []string`) be ranged over, indexed and printed.
pub trait Object: fmt::Debug {
    /// The Go type for `%T` and errors, e.g. `*chartutil.Capabilities`.
    fn type_name(&self) -> &str;
    /// Go's kind name (`ptr`, `struct`, `slice`, `map`).
    fn kind(&self) -> &str {
        "ptr"
    }
    /// An exported field.
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    /// A method, bound to this receiver.
    fn method(&self, _name: &str) -> Option<Func> {
        None
    }
    /// The value of a named slice/map type, used by range, len, index, print.
    fn underlying(&self) -> Option<Value> {
        None
    }
    /// `String()` or `Error()`, when the type has one (fmt uses it for `%v`/`%s`).
    fn string(&self) -> Option<String> {
        None
    }
    /// How `%v` prints it without a `String()` method, e.g. `&{a b}`.
    fn fmt_v(&self) -> String {
        format!("&{{{}}}", self.type_name())
    }
    /// What `encoding/json` (and so `toJson`, `toYaml`) sees of a struct:
    /// its exported fields as a map, when it is not `{}`.
    fn marshal_value(&self) -> Option<Value> {
        None
    }
}

/// A template value.
#[derive(Clone, Debug)]
pub enum Value {
    /// Go's invalid `reflect.Value`: a missing key, an unset pipeline result.
    Missing,
    /// A nil `interface{}`.
    Nil,
    Bool(bool),
    Int(i64, IntType),
    Float(f64),
    String(Rc<str>),
    /// A Go string whose bytes are not valid UTF-8 (`.Files.Get` of a
    /// binary file). Variables, pipelines, a template's dot and the
    /// functions marked [`Func::raw_strings`] (the encoders and digests,
    /// `len`, `default`, `include`, ...) keep its bytes, as Go does; every
    /// other function, and the output, gets its text ([`go_lossy`]).
    RawString(Rc<[u8]>),
    List(List),
    Map(Map),
    Object(Rc<dyn Object>),
    Func(Func),
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::String(s.into())
    }

    /// A Go string of these bytes: [`Value::String`] when they are UTF-8,
    /// else [`Value::RawString`].
    pub fn from_bytes(b: &[u8]) -> Value {
        match std::str::from_utf8(b) {
            Ok(s) => Value::str(s),
            Err(_) => Value::RawString(Rc::from(b)),
        }
    }

    /// A [`Value::RawString`] as its text; any other value as it is.
    pub fn into_text(self) -> Value {
        match self {
            Value::RawString(b) => Value::from(go_lossy(&b)),
            v => v,
        }
    }

    /// A string's bytes, raw or not.
    pub fn string_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::String(s) => Some(s.as_bytes()),
            Value::RawString(b) => Some(b),
            _ => None,
        }
    }

    /// A Go `int`.
    pub fn int(i: i64) -> Value {
        Value::Int(i, IntType::Int)
    }

    /// A `[]interface {}`.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(List { items: Rc::new(items), ty: LIST_TYPE })
    }

    /// A `[]string`.
    pub fn string_list(items: Vec<String>) -> Value {
        let items = items.into_iter().map(|s| Value::String(s.into())).collect();
        Value::List(List { items: Rc::new(items), ty: STRING_LIST_TYPE })
    }

    pub fn map(entries: BTreeMap<String, Value>) -> Value {
        Value::Map(Map::from_entries(entries))
    }

    /// A copy sharing nothing mutable with the original (Sprig's
    /// `deepCopy`): maps are copied at every level, objects and functions
    /// are shared.
    pub fn deep_clone(&self) -> Value {
        match self {
            Value::Map(m) => Value::Map(Map {
                entries: Rc::new(RefCell::new(
                    m.entries.borrow().iter().map(|(k, v)| (k.clone(), v.deep_clone())).collect(),
                )),
                ty: m.ty,
            }),
            Value::List(l) => {
                Value::List(List { items: Rc::new(l.items.iter().map(Value::deep_clone).collect()), ty: l.ty })
            }
            v => v.clone(),
        }
    }

    /// Nil or missing.
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Missing | Value::Nil)
    }

    /// The value behind an object of a named slice/map type, else itself.
    pub fn underlying(&self) -> Value {
        match self {
            Value::Object(o) => o.underlying().unwrap_or_else(|| self.clone()),
            v => v.clone(),
        }
    }

    /// The Go type name as `%T` prints it (`<nil>` for nil).
    pub fn type_name(&self) -> String {
        match self {
            Value::Missing | Value::Nil => "<nil>".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_, t) => t.name().into(),
            Value::Float(_) => "float64".into(),
            Value::String(_) | Value::RawString(_) => "string".into(),
            Value::List(l) => l.ty.into(),
            Value::Map(m) => m.ty.into(),
            Value::Object(o) => o.type_name().into(),
            Value::Func(_) => "func(...interface {}) (interface {}, error)".into(),
        }
    }

    /// Go's `reflect.Kind` name (`kindOf`): `int64`, `slice`, `map`, `invalid`.
    pub fn kind_name(&self) -> &str {
        match self {
            Value::Missing | Value::Nil => "invalid",
            Value::Bool(_) => "bool",
            Value::Int(_, t) => t.name(),
            Value::Float(_) => "float64",
            Value::String(_) | Value::RawString(_) => "string",
            Value::List(_) => "slice",
            Value::Map(_) => "map",
            Value::Object(o) => o.kind(),
            Value::Func(_) => "func",
        }
    }

    /// Go's truth (`if`, `with`, `and`, `or`, `not`): `None` when the value
    /// has no truth value.
    pub fn truth(&self) -> Option<bool> {
        Some(match self {
            Value::Missing | Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i, _) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::RawString(b) => !b.is_empty(),
            Value::List(l) => !l.items.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::Object(o) => match o.underlying() {
                Some(v) => return v.truth(),
                None => true,
            },
            Value::Func(_) => true,
        })
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// From JSON with every number a `float64`, as helm reads values files
    /// (sigs.k8s.io/yaml decodes through `encoding/json` into
    /// `interface{}`). Integers above 2^53 lose precision, as in helm.
    pub fn from_json(v: &serde_json::Value) -> Value {
        Value::from_json_numbers(v, false)
    }

    /// From JSON with integral numbers as `int64` (helm's `--set` integers)
    /// and the others `float64`.
    pub fn from_json_int64(v: &serde_json::Value) -> Value {
        Value::from_json_numbers(v, true)
    }

    fn from_json_numbers(v: &serde_json::Value, ints: bool) -> Value {
        use serde_json::Value as J;
        match v {
            J::Null => Value::Nil,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => match n.as_i64() {
                Some(i) if ints => Value::Int(i, IntType::Int64),
                _ => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            J::String(s) => Value::str(s),
            J::Array(a) => Value::list(a.iter().map(|v| Value::from_json_numbers(v, ints)).collect()),
            J::Object(o) => Value::map(o.iter().map(|(k, v)| (k.clone(), Value::from_json_numbers(v, ints))).collect()),
        }
    }

    /// To JSON: nil/missing become `null`, integral floats stay floats
    /// (serde writes `1.0`; helm's `toJson` formatting is its own concern),
    /// objects through their underlying value or `{}`, functions `null`.
    /// Non-finite floats are an error, as in `encoding/json`.
    pub fn to_json(&self) -> Result<serde_json::Value, String> {
        use serde_json::Value as J;
        Ok(match self {
            Value::Missing | Value::Nil | Value::Func(_) => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i, t) if t.is_unsigned() => J::from(*i as u64),
            Value::Int(i, _) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(J::Number)
                .ok_or_else(|| format!("json: unsupported value: {}", super::fmt::format_float_v(*f)))?,
            Value::String(s) => J::String(s.to_string()),
            Value::RawString(b) => J::String(go_lossy(b)),
            Value::List(l) => J::Array(l.items.iter().map(Value::to_json).collect::<Result<_, _>>()?),
            Value::Map(m) => J::Object(
                m.entries.borrow().iter().map(|(k, v)| Ok((k.clone(), v.to_json()?))).collect::<Result<_, String>>()?,
            ),
            Value::Object(o) => match o.underlying().or_else(|| o.marshal_value()) {
                Some(v) => v.to_json()?,
                None => J::Object(Default::default()),
            },
        })
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::str(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s.into())
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Float(f)
    }
}

/// Bytes as text the way Go decodes runes (`range`, `strings.Map`,
/// `[]rune(s)`): each byte that does not start a valid UTF-8 sequence
/// becomes one U+FFFD.
pub fn go_lossy(mut b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    loop {
        match std::str::from_utf8(b) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (good, rest) = b.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(good).unwrap_or_default());
                let bad = e.error_len().unwrap_or(rest.len());
                out.extend(std::iter::repeat_n('\u{FFFD}', bad));
                b = &rest[bad..];
            }
        }
    }
}
