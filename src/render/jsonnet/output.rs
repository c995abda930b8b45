//! A Jsonnet program's value to objects.
//!
//! Accepted shapes, walked in order: an object with `apiVersion` and `kind`
//! is a manifest (a `*List` is flattened); an array's elements and a plain
//! object's visible fields (sorted, as Jsonnet manifests them: the Tanka
//! layout) are walked recursively; `null` yields nothing (so `if c then x`
//! works). Anything else is an error naming its JSON path, e.g.
//! `$.app.service: expected a Kubernetes object, found a string`.
//!
//! Manifests become JSON as kubectl would read Jsonnet's output: integral
//! numbers are integers, hidden fields are dropped, object assertions run.

use std::path::Path;
use std::sync::Arc;

use jrsonnet_evaluator::error::ResultExt;
use jrsonnet_evaluator::{Error as JrError, Val};
use serde_json::{Map, Value};

use super::trace::format_error;
use crate::model::{Object, Origin};
use crate::yaml::float_to_json;

/// Why a value is not a set of manifests.
pub enum OutputError {
    /// Evaluating a lazy part of the value failed.
    Eval(JrError),
    /// The value (at a JSON path) has the wrong shape.
    Shape { path: String, message: String },
}

impl OutputError {
    pub fn render(&self, root: &Path) -> String {
        match self {
            OutputError::Eval(e) => format_error(e, root),
            OutputError::Shape { path, message } => format!("{path}: {message}"),
        }
    }
}

impl From<JrError> for OutputError {
    fn from(e: JrError) -> Self {
        OutputError::Eval(e)
    }
}

fn shape(path: &str, message: impl Into<String>) -> OutputError {
    OutputError::Shape { path: path.to_string(), message: message.into() }
}

/// `path` extended by an object field: `$.a`, or `$["a-b"]` for non-identifiers.
fn field_path(path: &str, key: &str) -> String {
    let ident = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ident { format!("{path}.{key}") } else { format!("{path}[{}]", Value::from(key)) }
}

fn type_name(v: &Val) -> &'static str {
    match v {
        Val::Null => "null",
        Val::Bool(_) => "a boolean",
        Val::Num(_) => "a number",
        Val::Str(_) => "a string",
        Val::Arr(_) => "an array",
        Val::Obj(_) => "an object",
        Val::Func(_) => "a function",
    }
}

/// Every manifest in `value`; origins name `file` and the manifest's index.
/// Values nest at most `max_depth` levels (walked layers included).
pub fn extract(value: Val, file: &str, max_depth: usize) -> Result<Vec<Object>, OutputError> {
    let mut out = Vec::new();
    let file: Arc<str> = Arc::from(file);
    walk(value, "$".to_string(), &file, &mut out, max_depth)?;
    Ok(out)
}

fn walk(value: Val, path: String, file: &Arc<str>, out: &mut Vec<Object>, max_depth: usize) -> Result<(), OutputError> {
    if max_depth == 0 {
        return Err(shape(&path, "value nests too deep (raise it with --max-nesting)"));
    }
    match value {
        Val::Null => Ok(()),
        Val::Arr(items) => {
            for (i, item) in items.iter().enumerate() {
                let item = item.with_description(|| format!("elem <{i}> evaluation"))?;
                walk(item, format!("{path}[{i}]"), file, out, max_depth - 1)?;
            }
            Ok(())
        }
        Val::Obj(obj) => {
            let has_api = obj.has_field("apiVersion".into());
            let has_kind = obj.has_field("kind".into());
            if has_api && has_kind {
                let value = to_json(&Val::Obj(obj), &path, max_depth)?;
                return push(value, path, file, out);
            }
            if has_api || has_kind {
                let (present, missing) = if has_api { ("apiVersion", "kind") } else { ("kind", "apiVersion") };
                return Err(shape(
                    &path,
                    format!("object has `{present}` but no `{missing}`: not a Kubernetes object"),
                ));
            }
            obj.run_assertions()?;
            for (key, field) in obj.iter() {
                let field = field.with_description(|| format!("field <{key}> evaluation"))?;
                walk(field, field_path(&path, &key), file, out, max_depth - 1)?;
            }
            Ok(())
        }
        other => Err(shape(&path, format!("expected a Kubernetes object, found {}", type_name(&other)))),
    }
}

/// Append a manifest (flattening `*List`s) with its origin.
fn push(value: Value, path: String, file: &Arc<str>, out: &mut Vec<Object>) -> Result<(), OutputError> {
    if Object::is_list(&value) {
        let Value::Object(mut m) = value else { unreachable!("a List is an object") };
        if let Some(Value::Array(items)) = m.remove("items") {
            for (i, item) in items.into_iter().enumerate() {
                let item_path = format!("{path}.items[{i}]");
                if item.is_null() {
                    continue;
                }
                if !item.is_object() {
                    return Err(shape(&item_path, "expected a Kubernetes object in the List's items"));
                }
                push(item, item_path, file, out)?;
            }
        }
        return Ok(());
    }
    let origin = Origin { file: file.clone(), document: out.len(), line: 0 };
    let object = Object::new(value, origin).map_err(|e| shape(&path, e.to_string()))?;
    out.push(object);
    Ok(())
}

/// A fully evaluated value as JSON (fields sorted, hidden fields dropped),
/// nesting at most `max_depth` levels. `path` names the value in errors.
pub fn to_json(value: &Val, path: &str, max_depth: usize) -> Result<Value, OutputError> {
    let mut conv = Converter { base: path, segments: Vec::new(), max_depth };
    conv.value(value)
}

/// One step of a JSON path, kept as a stack so that a deep value costs
/// memory in proportion to its depth, not to its depth squared.
enum Segment {
    Index(usize),
    Field(jrsonnet_evaluator::IStr),
}

struct Converter<'a> {
    base: &'a str,
    segments: Vec<Segment>,
    max_depth: usize,
}

impl Converter<'_> {
    /// The JSON path of the value being converted (only built for errors).
    fn path(&self) -> String {
        const SHOWN: usize = 8;
        let mut p = self.base.to_string();
        let n = self.segments.len();
        for (i, s) in self.segments.iter().enumerate() {
            // A very deep path keeps its first and last steps.
            if n > 2 * SHOWN && (SHOWN..n - SHOWN).contains(&i) {
                if i == SHOWN {
                    p.push_str(&format!("...({} levels)...", n - 2 * SHOWN));
                }
                continue;
            }
            p = match s {
                Segment::Index(i) => format!("{p}[{i}]"),
                Segment::Field(k) => field_path(&p, k),
            };
        }
        p
    }

    fn value(&mut self, value: &Val) -> Result<Value, OutputError> {
        if self.segments.len() >= self.max_depth {
            return Err(shape(
                &self.path(),
                format!("value nests deeper than {} levels (raise it with --max-nesting)", self.max_depth),
            ));
        }
        Ok(match value {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Num(n) => float_to_json(n.get()).unwrap_or(Value::Null),
            Val::Str(s) => Value::String(s.clone().into_flat().to_string()),
            Val::Arr(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let item = item.with_description(|| format!("elem <{i}> manifestification"))?;
                    self.segments.push(Segment::Index(i));
                    out.push(self.value(&item)?);
                    self.segments.pop();
                }
                Value::Array(out)
            }
            Val::Obj(obj) => {
                obj.run_assertions()?;
                // Fields come sorted: building the map from the sorted list
                // packs its nodes and compares no keys (an insert per field
                // compared keys and left nodes half full).
                let mut fields = Vec::new();
                for (key, field) in obj.iter() {
                    let field = field.with_description(|| format!("field <{key}> manifestification"))?;
                    self.segments.push(Segment::Field(key.clone()));
                    let json = self.value(&field)?;
                    self.segments.pop();
                    fields.push((key.to_string(), json));
                }
                Value::Object(Map::from_iter(fields))
            }
            Val::Func(_) => return Err(shape(&self.path(), "a function cannot be a value in a manifest")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jrsonnet_evaluator::State;

    fn eval(code: &str) -> Val {
        let mut b = State::builder();
        b.context_initializer(jrsonnet_stdlib::ContextInitializer::new(
            jrsonnet_evaluator::trace::PathResolver::Absolute,
        ));
        b.build().evaluate_snippet("<test>", code).expect("valid Jsonnet")
    }

    fn shape_error(code: &str) -> String {
        match extract(eval(code), "t.jsonnet", 256) {
            Err(OutputError::Shape { path, message }) => format!("{path}: {message}"),
            Err(OutputError::Eval(e)) => panic!("evaluation error: {e:?}"),
            Ok(objs) => panic!("expected an error, got {} objects", objs.len()),
        }
    }

    #[test]
    fn json_paths() {
        assert_eq!(field_path("$", "abc_1"), "$.abc_1");
        assert_eq!(field_path("$.a", "b-c"), "$.a[\"b-c\"]");
        assert_eq!(field_path("$", "1x"), "$[\"1x\"]");
        assert_eq!(field_path("$", "say \"hi\""), "$[\"say \\\"hi\\\"\"]");
    }

    #[test]
    fn numbers_become_integers_when_integral() {
        let v = to_json(&eval("{ a: 1.0, b: 2.5, c: -0, d: 1e3, e: [3] }"), "$", 256).ok().unwrap();
        assert_eq!(v.to_string(), r#"{"a":1,"b":2.5,"c":0,"d":1000,"e":[3]}"#);
        assert!(v["a"].is_i64());
    }

    #[test]
    fn hidden_fields_are_dropped_and_assertions_run() {
        let v = to_json(&eval("{ a: 1, h:: 2, o: { x:: 1 } }"), "$", 256).ok().unwrap();
        assert_eq!(v.to_string(), r#"{"a":1,"o":{}}"#);
        assert!(matches!(to_json(&eval("{ assert false, a: 1 }"), "$", 256), Err(OutputError::Eval(_))));
        assert!(matches!(to_json(&eval("{ e: {assert false} }"), "$", 256), Err(OutputError::Eval(_))));
    }

    #[test]
    fn shapes_and_origins() {
        let cm = |n: &str| format!("{{ apiVersion: 'v1', kind: 'ConfigMap', metadata: {{ name: '{n}' }} }}");
        let code = format!("{{ b: [{}, null, [{}]], a: {{ x: {} }} }}", cm("b1"), cm("b2"), cm("a"));
        let objs = extract(eval(&code), "t.jsonnet", 256).ok().unwrap();
        let names: Vec<&str> = objs.iter().map(|o| o.name()).collect();
        assert_eq!(names, ["a", "b1", "b2"], "fields in Jsonnet's (sorted) order");
        assert_eq!(objs[2].origin.to_string(), "t.jsonnet");
        assert_eq!(objs[2].origin.document, 2);
    }

    #[test]
    fn shape_errors_name_the_path() {
        assert_eq!(shape_error("{ a: [{}, 'x'] }"), "$.a[1]: expected a Kubernetes object, found a string");
        assert_eq!(shape_error("[true]"), "$[0]: expected a Kubernetes object, found a boolean");
        assert_eq!(shape_error("function() 1"), "$: expected a Kubernetes object, found a function");
        assert_eq!(
            shape_error("{ x: { apiVersion: 'v1' } }"),
            "$.x: object has `apiVersion` but no `kind`: not a Kubernetes object"
        );
        assert_eq!(
            shape_error("{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 1 } }"),
            "$: missing or invalid field `metadata.name`"
        );
    }
}
