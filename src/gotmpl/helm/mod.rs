//! Helm's own template functions (helm 4.1.4, `pkg/engine/funcs.go` and
//! `engine.go`) on top of Sprig: `include`, `tpl`, `required`, `fail`,
//! `lookup`, the YAML/JSON/TOML converters, and helm's error formatting
//! ([`errors`]).
//!
//! [`helm_funcs`] builds the map as helm's engine installs it for one
//! render: Sprig without `env`/`expandenv`, helm's additions, `include`
//! and `tpl` sharing one per-name recursion counter (helm's
//! `includedNames`: a name nested more than 1000 times fails with helm's
//! text), `getHostByName` returning `""` (helm without `--enable-dns`).
//! `lookup` returns an empty map, as under `helm template`.
//!
//! Known differences: `fromJson`/`fromYaml`/`fromToml` put our parser's
//! error text (not Go's) under `Error`; `tpl` parses into a copy of the
//! set, so a `tpl` nested in a `tpl` does not see a `"gotpl"` template
//! left by the outer one.

pub mod errors;
pub mod toml;
pub mod yaml;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::value::{Arity, Func, Map, Param, Value};
use super::{Error, Templates};

/// How many times one name may be nested in `include` (helm's `recursionMaxNums`).
pub const INCLUDE_MAX_NESTING: usize = 1000;

/// The name helm gives its root template; `tpl` text is parsed under it.
pub const ROOT_TEMPLATE: &str = "gotpl";

const WARN_START: &str = "HELM_ERR_START";
const WARN_END: &str = "HELM_ERR_END";

/// helm's `warnWrap`: marks a `required`/`fail` message so the final error
/// shows it alone (`execution error at (FILE:LINE:COL): MESSAGE`).
fn warn_wrap(msg: &str) -> Error {
    Error::Func(format!("{WARN_START}{msg}{WARN_END}"))
}

/// Template nesting a helm render allows: room for one name nested
/// [`INCLUDE_MAX_NESTING`] times (Go's `include` starts a fresh execution,
/// so only helm's per-name counter stops it) under other calls.
pub const MAX_DEPTH: usize = 2 * INCLUDE_MAX_NESTING + 16;

/// Adds Sprig and helm's functions to `set`, names it as helm does and
/// allows [`MAX_DEPTH`] nested templates.
pub fn add_helm(set: &mut Templates) {
    set.name = ROOT_TEMPLATE.to_string();
    set.options.max_depth = MAX_DEPTH;
    super::sprig::add_sprig(set);
    set.add_funcs(helm_funcs());
}

/// Helm's functions for one render (fresh `include` counters).
pub fn helm_funcs() -> Vec<Func> {
    let included: Rc<RefCell<HashMap<String, usize>>> = Rc::default();
    let mut v = Vec::new();
    let inc = included.clone();
    v.push(
        Func::typed("include", &[Param::String, Param::Any], false, move |ctx, a| {
            let name = a[0].as_str().unwrap_or_default();
            {
                let mut map = inc.borrow_mut();
                match map.get_mut(name) {
                    Some(n) if *n > INCLUDE_MAX_NESTING => {
                        return Err(Error::Func(format!(
                            "rendering template has a nested reference name: {name}: unable to execute template"
                        )));
                    }
                    Some(n) => *n += 1,
                    None => {
                        map.insert(name.to_string(), 1);
                    }
                }
            }
            let r = ctx.execute(name, &a[1]);
            if let Some(n) = inc.borrow_mut().get_mut(name) {
                *n -= 1;
            }
            r.map(Value::from)
        })
        // the template's dot keeps a binary string's bytes
        .reading_bytes(),
    );
    v.push(Func::typed("tpl", &[Param::String, Param::Any], false, |ctx, a| {
        let text = a[0].as_str().unwrap_or_default();
        let mut set = ctx.set.clone();
        if let Err(e) = set.parse(ROOT_TEMPLATE, text) {
            return Err(Error::Func(format!("cannot parse template {}: {}", super::fmt::quote(text), e.message())));
        }
        let mut inner = super::Ctx { set: &set, runtime: ctx.runtime };
        match inner.execute(ROOT_TEMPLATE, &a[1]) {
            Ok(out) => Ok(Value::from(out.replace("<no value>", ""))),
            Err(Error::Limit(m)) => Err(Error::Limit(m)),
            Err(e) => Err(Error::Func(format!(
                "error during tpl function execution for {}: {}",
                super::fmt::quote(text),
                e.message()
            ))),
        }
    }));
    v.push(Func::typed("required", &[Param::String, Param::Any], false, |_, a| {
        let warn = a[0].as_str().unwrap_or_default();
        match &a[1] {
            Value::Nil | Value::Missing => Err(warn_wrap(warn)),
            Value::String(s) if s.is_empty() => Err(warn_wrap(warn)),
            v => Ok(v.clone()),
        }
    }));
    v.push(Func::typed("fail", &[Param::String], false, |_, a| Err(warn_wrap(a[0].as_str().unwrap_or_default()))));
    v.push(Func::typed("lookup", &[Param::String, Param::String, Param::String, Param::String], false, |_, _| {
        Ok(Value::Map(Map::new()))
    }));
    v.push(Func::typed("getHostByName", &[Param::String], false, |_, _| Ok(Value::str(""))));
    v.push(Func::new("toYaml", Arity::Exact(1), |_, a| Ok(Value::from(yaml::to_yaml(&a[0]).unwrap_or_default()))));
    v.push(Func::new("mustToYaml", Arity::Exact(1), |_, a| yaml::to_yaml(&a[0]).map(Value::from).map_err(Error::Func)));
    v.push(Func::new("toYamlPretty", Arity::Exact(1), |_, a| {
        Ok(Value::from(yaml::to_yaml_pretty(&a[0]).unwrap_or_default()))
    }));
    v.push(Func::typed("fromYaml", &[Param::String], false, |_, a| Ok(from_yaml(a[0].as_str().unwrap_or_default()))));
    v.push(Func::typed("fromYamlArray", &[Param::String], false, |_, a| {
        Ok(from_yaml_array(a[0].as_str().unwrap_or_default()))
    }));
    v.push(Func::new("toJson", Arity::Exact(1), |_, a| {
        Ok(Value::from(super::sprig::json::marshal(&a[0], true, None).unwrap_or_default()))
    }));
    v.push(Func::new("mustToJson", Arity::Exact(1), |_, a| {
        super::sprig::json::marshal(&a[0], true, None).map(Value::from).map_err(Error::Func)
    }));
    v.push(Func::typed("fromJson", &[Param::String], false, |_, a| Ok(from_json(a[0].as_str().unwrap_or_default()))));
    v.push(Func::typed("fromJsonArray", &[Param::String], false, |_, a| {
        Ok(from_json_array(a[0].as_str().unwrap_or_default()))
    }));
    v.push(Func::new("toToml", Arity::Exact(1), |_, a| Ok(Value::from(toml::to_toml(&a[0])))));
    v.push(Func::typed("fromToml", &[Param::String], false, |_, a| Ok(from_toml(a[0].as_str().unwrap_or_default()))));
    v
}

/// A map holding only `Error` (how helm's `from*` functions report errors).
fn error_map(msg: String) -> Value {
    let m = Map::new();
    m.insert("Error", Value::from(msg));
    Value::Map(m)
}

/// Go's name for a JSON value's type in unmarshal errors.
fn json_kind(j: &serde_json::Value) -> &'static str {
    match j {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// YAML text as `sigs.k8s.io/yaml.Unmarshal` reads it: the first document,
/// YAML 1.1 scalars, numbers float64.
fn read_yaml(text: &str) -> Result<serde_json::Value, String> {
    let docs =
        crate::yaml::parse_stream_with(text, crate::yaml::Dialect::Kubectl, crate::yaml::DuplicateKeys::LastWins)
            .map_err(|e| format!("error converting YAML to JSON: yaml: line {}: {}", e.line, e.message))?;
    Ok(docs.into_iter().next().map(|d| d.value).unwrap_or(serde_json::Value::Null))
}

/// `fromYaml`: a map, or `{Error: ...}`.
pub fn from_yaml(text: &str) -> Value {
    match read_yaml(text) {
        Ok(serde_json::Value::Null) => Value::Map(Map::new()),
        Ok(j @ serde_json::Value::Object(_)) => Value::from_json(&j),
        Ok(j) => error_map(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            json_kind(&j)
        )),
        Err(e) => error_map(e),
    }
}

/// `fromYamlArray`: a list, or a list holding the error text.
pub fn from_yaml_array(text: &str) -> Value {
    match read_yaml(text) {
        Ok(serde_json::Value::Null) => Value::list(Vec::new()),
        Ok(j @ serde_json::Value::Array(_)) => Value::from_json(&j),
        Ok(j) => Value::list(vec![Value::from(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type []interface {{}}",
            json_kind(&j)
        ))]),
        Err(e) => Value::list(vec![Value::from(e)]),
    }
}

/// JSON as `encoding/json` reads it; the values through the project's YAML
/// reader, whose floats are correctly rounded.
fn read_json(text: &str) -> Result<serde_json::Value, String> {
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
        return Err(if e.is_eof() { "unexpected end of JSON input".to_string() } else { e.to_string() });
    }
    crate::yaml::parse_one(text, crate::yaml::Dialect::Kubectl).map_err(|e| e.to_string())
}

/// `fromJson`: a map, or `{Error: ...}`.
pub fn from_json(text: &str) -> Value {
    match read_json(text) {
        Ok(serde_json::Value::Null) => Value::Map(Map::new()),
        Ok(j @ serde_json::Value::Object(_)) => Value::from_json(&j),
        Ok(j) => error_map(format!(
            "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            json_kind(&j)
        )),
        Err(e) => error_map(e),
    }
}

/// `fromJsonArray`: a list, or a list holding the error text.
pub fn from_json_array(text: &str) -> Value {
    match read_json(text) {
        Ok(serde_json::Value::Null) => Value::list(Vec::new()),
        Ok(j @ serde_json::Value::Array(_)) => Value::from_json(&j),
        Ok(j) => Value::list(vec![Value::from(format!(
            "json: cannot unmarshal {} into Go value of type []interface {{}}",
            json_kind(&j)
        ))]),
        Err(e) => Value::list(vec![Value::from(e)]),
    }
}

/// `fromToml`: a map (integers int64, floats float64, dates as their
/// text), or `{Error: ...}`.
pub fn from_toml(text: &str) -> Value {
    fn conv(v: &::toml::Value) -> Value {
        match v {
            ::toml::Value::String(s) => Value::str(s),
            ::toml::Value::Integer(i) => Value::Int(*i, super::value::IntType::Int64),
            ::toml::Value::Float(f) => Value::Float(*f),
            ::toml::Value::Boolean(b) => Value::Bool(*b),
            ::toml::Value::Datetime(d) => Value::from(d.to_string()),
            ::toml::Value::Array(a) => Value::list(a.iter().map(conv).collect()),
            ::toml::Value::Table(t) => Value::map(t.iter().map(|(k, v)| (k.clone(), conv(v))).collect()),
        }
    }
    match text.parse::<::toml::Table>() {
        Ok(t) => Value::map(t.iter().map(|(k, v)| (k.clone(), conv(v))).collect()),
        Err(e) => error_map(format!("toml: {}", e.message())),
    }
}

#[cfg(test)]
mod tests;
