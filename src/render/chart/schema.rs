//! `values.schema.json`: validate a chart's values (and each subchart's
//! values against its own schema), reporting every violation with its JSON
//! path. A focused validator for the JSON Schema keywords charts use
//! (drafts 4 to 2020-12): `type`, `enum`, `const`, `properties`, `required`,
//! `additionalProperties`, `patternProperties`, `propertyNames`, `items`
//! (schema or tuple), `prefixItems`, `min/maxItems`, `uniqueItems`,
//! `contains`, `min/maxLength`, `pattern`, `minimum`, `maximum`,
//! `exclusiveMinimum/Maximum` (number and draft-4 boolean forms),
//! `multipleOf`, `min/maxProperties`, `dependentRequired`, `allOf`, `anyOf`,
//! `oneOf`, `not`, `if`/`then`/`else` and local `$ref`s (`#/definitions/x`,
//! `#/$defs/x`). `format` is an annotation only, as in helm.

use serde_json::{Map, Value};

use super::load::Chart;
use crate::error::{Error, Result};

/// Validate `values` against `chart`'s schema and each subchart's values
/// against the subchart's schema; one error listing every violation.
pub fn validate_tree(chart: &Chart, values: &Map<String, Value>) -> Result<()> {
    let mut problems = Vec::new();
    collect(chart, values, &mut problems);
    if problems.is_empty() {
        return Ok(());
    }
    let message = problems.iter().map(|p| format!("\n- {p}")).collect::<String>();
    Err(Error::Chart {
        path: chart.dir.join("values.schema.json"),
        message: format!("values do not match the chart's values.schema.json:{message}"),
    })
}

fn collect(chart: &Chart, values: &Map<String, Value>, problems: &mut Vec<String>) {
    if let Some(schema) = &chart.schema {
        let mut v = Validator { root: schema, errors: Vec::new() };
        v.check(schema, &Value::Object(values.clone()), "", 0);
        problems.extend(v.errors.into_iter().map(|e| format!("{}: {e}", chart.name())));
    }
    for sub in &chart.deps {
        let empty = Map::new();
        let sv = values.get(sub.name()).and_then(Value::as_object).unwrap_or(&empty);
        collect(sub, sv, problems);
    }
}

/// Validate one value against one schema; each message is `path: problem`.
pub fn validate(schema: &Value, value: &Value) -> Vec<String> {
    let mut v = Validator { root: schema, errors: Vec::new() };
    v.check(schema, value, "", 0);
    v.errors
}

struct Validator<'a> {
    root: &'a Value,
    errors: Vec<String>,
}

fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() && n.as_f64().is_some_and(|f| f.fract() != 0.0) => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_matches(want: &str, v: &Value) -> bool {
    let got = type_of(v);
    want == got || (want == "number" && got == "integer")
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| equal(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equal(v, w)))
        }
        _ => a == b,
    }
}

fn at(path: &str) -> &str {
    if path.is_empty() { "/" } else { path }
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

impl<'a> Validator<'a> {
    fn fail(&mut self, path: &str, msg: String) {
        self.errors.push(format!("at '{}': {msg}", at(path)));
    }

    /// Does `v` match `schema` (no errors recorded)?
    fn matches(&self, schema: &'a Value, v: &Value, depth: usize) -> bool {
        let mut probe = Validator { root: self.root, errors: Vec::new() };
        probe.check(schema, v, "", depth);
        probe.errors.is_empty()
    }

    fn resolve(&self, reference: &str) -> Option<&'a Value> {
        let pointer = reference.strip_prefix('#')?;
        if pointer.is_empty() {
            return Some(self.root);
        }
        self.root.pointer(pointer)
    }

    fn check(&mut self, schema: &'a Value, v: &Value, path: &str, depth: usize) {
        if depth > 64 {
            self.fail(path, "schema nesting too deep (a $ref cycle?)".into());
            return;
        }
        let s = match schema {
            Value::Bool(true) => return,
            Value::Bool(false) => return self.fail(path, "no value is allowed here".into()),
            Value::Object(s) => s,
            _ => return,
        };
        if let Some(Value::String(r)) = s.get("$ref") {
            match self.resolve(r) {
                Some(target) => self.check(target, v, path, depth + 1),
                None => self.fail(path, format!("unresolvable $ref {r:?} (only local references are supported)")),
            }
        }
        match s.get("type") {
            Some(Value::String(t)) if !type_matches(t, v) => {
                return self.fail(path, format!("got {}, want {t}", type_of(v)));
            }
            Some(Value::Array(ts)) if !ts.iter().any(|t| t.as_str().is_some_and(|t| type_matches(t, v))) => {
                let want: Vec<&str> = ts.iter().filter_map(Value::as_str).collect();
                return self.fail(path, format!("got {}, want {}", type_of(v), want.join(" or ")));
            }
            _ => {}
        }
        if let Some(Value::Array(options)) = s.get("enum")
            && !options.iter().any(|o| equal(o, v))
        {
            let list: Vec<String> = options.iter().map(Value::to_string).collect();
            self.fail(path, format!("value must be one of {}", list.join(", ")));
        }
        if let Some(c) = s.get("const")
            && !equal(c, v)
        {
            self.fail(path, format!("value must be {c}"));
        }
        self.check_combinators(s, v, path, depth);
        match v {
            Value::Object(m) => self.check_object(s, m, path, depth),
            Value::Array(a) => self.check_array(s, a, path, depth),
            Value::String(text) => self.check_string(s, text, path),
            Value::Number(_) => self.check_number(s, v, path),
            _ => {}
        }
    }

    fn check_combinators(&mut self, s: &'a Map<String, Value>, v: &Value, path: &str, depth: usize) {
        if let Some(Value::Array(all)) = s.get("allOf") {
            for sub in all {
                self.check(sub, v, path, depth + 1);
            }
        }
        if let Some(Value::Array(any)) = s.get("anyOf")
            && !any.iter().any(|sub| self.matches(sub, v, depth + 1))
        {
            self.fail(path, "value does not match any of the schemas in anyOf".into());
        }
        if let Some(Value::Array(one)) = s.get("oneOf") {
            let n = one.iter().filter(|sub| self.matches(sub, v, depth + 1)).count();
            if n != 1 {
                self.fail(path, format!("value must match exactly one schema in oneOf, matches {n}"));
            }
        }
        if let Some(not) = s.get("not")
            && self.matches(not, v, depth + 1)
        {
            self.fail(path, "value must not match the schema in not".into());
        }
        if let Some(cond) = s.get("if") {
            let branch = if self.matches(cond, v, depth + 1) { s.get("then") } else { s.get("else") };
            if let Some(b) = branch {
                self.check(b, v, path, depth + 1);
            }
        }
    }

    fn check_object(&mut self, s: &'a Map<String, Value>, m: &Map<String, Value>, path: &str, depth: usize) {
        if let Some(Value::Array(req)) = s.get("required") {
            for r in req.iter().filter_map(Value::as_str) {
                if !m.contains_key(r) {
                    self.fail(path, format!("missing property '{r}'"));
                }
            }
        }
        if let Some(Value::Object(dr)) = s.get("dependentRequired") {
            for (k, needs) in dr {
                if m.contains_key(k) {
                    for n in needs.as_array().into_iter().flatten().filter_map(Value::as_str) {
                        if !m.contains_key(n) {
                            self.fail(path, format!("property '{n}' is required when '{k}' is set"));
                        }
                    }
                }
            }
        }
        if let Some(n) = s.get("minProperties").and_then(Value::as_u64)
            && (m.len() as u64) < n
        {
            self.fail(path, format!("minimum {n} properties allowed, found {}", m.len()));
        }
        if let Some(n) = s.get("maxProperties").and_then(Value::as_u64)
            && (m.len() as u64) > n
        {
            self.fail(path, format!("maximum {n} properties allowed, found {}", m.len()));
        }
        let props = s.get("properties").and_then(Value::as_object);
        let patterns: Vec<(regex::Regex, &'a Value)> = s
            .get("patternProperties")
            .and_then(Value::as_object)
            .map(|pp| pp.iter().filter_map(|(p, sch)| regex::Regex::new(p).ok().map(|r| (r, sch))).collect())
            .unwrap_or_default();
        for (k, val) in m {
            let child = format!("{path}/{}", escape(k));
            let mut known = false;
            if let Some(sch) = props.and_then(|p| p.get(k)) {
                known = true;
                self.check(sch, val, &child, depth + 1);
            }
            for (re, sch) in &patterns {
                if re.is_match(k) {
                    known = true;
                    self.check(sch, val, &child, depth + 1);
                }
            }
            if !known && let Some(ap) = s.get("additionalProperties") {
                if ap == &Value::Bool(false) {
                    self.fail(path, format!("additional property '{k}' is not allowed"));
                } else {
                    self.check(ap, val, &child, depth + 1);
                }
            }
            if let Some(pn) = s.get("propertyNames") {
                self.check(pn, &Value::String(k.clone()), &child, depth + 1);
            }
        }
    }

    fn check_array(&mut self, s: &'a Map<String, Value>, a: &[Value], path: &str, depth: usize) {
        if let Some(n) = s.get("minItems").and_then(Value::as_u64)
            && (a.len() as u64) < n
        {
            self.fail(path, format!("minimum {n} items required, found {}", a.len()));
        }
        if let Some(n) = s.get("maxItems").and_then(Value::as_u64)
            && (a.len() as u64) > n
        {
            self.fail(path, format!("maximum {n} items allowed, found {}", a.len()));
        }
        if s.get("uniqueItems") == Some(&Value::Bool(true)) {
            for i in 0..a.len() {
                if a[..i].iter().any(|x| equal(x, &a[i])) {
                    self.fail(path, format!("items at {i} and an earlier index are equal, but items must be unique"));
                    break;
                }
            }
        }
        let tuple = match (s.get("prefixItems"), s.get("items")) {
            (Some(Value::Array(t)), _) | (None, Some(Value::Array(t))) => Some(t),
            _ => None,
        };
        let rest = match (s.get("prefixItems"), s.get("items")) {
            (Some(_), Some(items)) => Some(items),
            (None, Some(Value::Array(_))) => s.get("additionalItems"),
            (None, Some(items)) => Some(items),
            _ => None,
        };
        for (i, item) in a.iter().enumerate() {
            let child = format!("{path}/{i}");
            match tuple.and_then(|t| t.get(i)) {
                Some(sch) => self.check(sch, item, &child, depth + 1),
                None => {
                    if let Some(r) = rest {
                        self.check(r, item, &child, depth + 1);
                    }
                }
            }
        }
        if let Some(c) = s.get("contains")
            && !a.iter().any(|item| self.matches(c, item, depth + 1))
        {
            self.fail(path, "no item matches the schema in contains".into());
        }
    }

    fn check_string(&mut self, s: &'a Map<String, Value>, text: &str, path: &str) {
        let len = text.chars().count() as u64;
        if let Some(n) = s.get("minLength").and_then(Value::as_u64)
            && len < n
        {
            self.fail(path, format!("length must be >= {n}, but got {len}"));
        }
        if let Some(n) = s.get("maxLength").and_then(Value::as_u64)
            && len > n
        {
            self.fail(path, format!("length must be <= {n}, but got {len}"));
        }
        if let Some(Value::String(p)) = s.get("pattern") {
            match regex::Regex::new(p) {
                Ok(re) if !re.is_match(text) => self.fail(path, format!("{text:?} does not match pattern {p:?}")),
                Ok(_) => {}
                Err(e) => self.fail(path, format!("invalid pattern {p:?} in schema: {e}")),
            }
        }
    }

    fn check_number(&mut self, s: &'a Map<String, Value>, v: &Value, path: &str) {
        let Some(x) = num(v) else { return };
        let excl = |k: &str| s.get(k);
        if let Some(min) = s.get("minimum").and_then(num) {
            let exclusive = excl("exclusiveMinimum") == Some(&Value::Bool(true));
            if x < min || (exclusive && x == min) {
                self.fail(path, format!("must be {} {min} but found {x}", if exclusive { ">" } else { ">=" }));
            }
        }
        if let Some(max) = s.get("maximum").and_then(num) {
            let exclusive = excl("exclusiveMaximum") == Some(&Value::Bool(true));
            if x > max || (exclusive && x == max) {
                self.fail(path, format!("must be {} {max} but found {x}", if exclusive { "<" } else { "<=" }));
            }
        }
        if let Some(min) = excl("exclusiveMinimum").and_then(num)
            && x <= min
        {
            self.fail(path, format!("must be > {min} but found {x}"));
        }
        if let Some(max) = excl("exclusiveMaximum").and_then(num)
            && x >= max
        {
            self.fail(path, format!("must be < {max} but found {x}"));
        }
        if let Some(m) = s.get("multipleOf").and_then(num)
            && m > 0.0
            && ((x / m) - (x / m).round()).abs() > 1e-9
        {
            self.fail(path, format!("{x} is not a multiple of {m}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_violation_is_reported_with_its_path() {
        let schema = json!({
            "type": "object",
            "required": ["image"],
            "properties": {
                "replicas": {"type": "integer", "minimum": 1},
                "image": {"$ref": "#/definitions/image"},
                "ports": {"type": "array", "items": {"type": "integer", "maximum": 65535}},
            },
            "additionalProperties": false,
            "definitions": {"image": {"type": "object", "required": ["tag"], "properties": {"tag": {"type": "string"}}}}
        });
        let errs = validate(&schema, &json!({"replicas": 0, "image": {"tag": 1}, "ports": [80, 70000], "x": 1}));
        assert_eq!(
            errs,
            [
                "at '/image/tag': got integer, want string",
                "at '/ports/1': must be <= 65535 but found 70000",
                "at '/replicas': must be >= 1 but found 0",
                "at '/': additional property 'x' is not allowed",
            ]
        );
        assert!(validate(&schema, &json!({"image": {"tag": "1"}, "replicas": 2.0})).is_empty());
        assert_eq!(validate(&schema, &json!({"replicas": 1.5, "image": {"tag": "x"}})).len(), 1);
    }

    #[test]
    fn combinators() {
        let s = json!({"oneOf": [{"type": "string"}, {"type": "integer"}], "not": {"const": "x"}});
        assert!(validate(&s, &json!("a")).is_empty());
        assert_eq!(validate(&s, &json!("x")).len(), 1);
        assert_eq!(validate(&s, &json!(true)).len(), 1);
        let s = json!({"anyOf": [{"enum": [1, 2]}]});
        assert!(validate(&s, &json!(2.0)).is_empty());
    }
}
