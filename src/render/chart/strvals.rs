//! Helm's `--set` family syntax ("strvals"): `a.b=1,l[0].x=y,m={a,b}`.
//!
//! Behaviour follows helm's parser exactly, quirks included, because users
//! copy command lines between helm and us: backslash escapes, `{a,b}`
//! lists, indices that pad lists with nulls, an unterminated `[` silently
//! ending the flag, at most 30 dots in a path, type conflicts as errors.
//! Values inferred by `--set` are int64 (never floats); `--set-json`
//! numbers are float64 (see [`super::values`] for the number model).

use serde_json::{Map, Value};

/// Deepest dotted path `--set` accepts.
const MAX_NESTED_NAME_LEVEL: usize = 30;
/// Largest list index `--set` accepts.
const MAX_INDEX: i64 = 65536;
/// Deepest value a flag may build (the render's default nesting limit).
const MAX_NESTING: usize = crate::render::limits::DEFAULT_MAX_DEPTH;

/// How a `--set`-style flag turns the text after `=` into a value.
#[derive(Clone, Copy)]
pub enum ValueKind<'a> {
    /// `--set`: `true`/`false`/`null` in any case, decimal int64, else string.
    Typed,
    /// `--set-string`: always a string.
    String,
    /// `--set-json`: a JSON value (an empty value is null).
    Json,
    /// `--set-file`: the content of the named file.
    File(&'a dyn Fn(&str) -> Result<String, String>),
}

/// Why parsing stopped: end of input (helm treats an error that wraps
/// EOF as a normal end) or a real error.
enum Stop {
    Eof,
    Err(String),
}

type PResult<T> = Result<T, Stop>;

/// Parse one `--set`/`--set-string`/`--set-json`/`--set-file` value into `dest`.
pub fn parse_into(s: &str, dest: &mut Map<String, Value>, kind: ValueKind<'_>) -> Result<(), String> {
    let mut p = Parser { s, pos: 0, kind, literal: false, nesting: 0 };
    p.run(dest)
}

/// Parse one `--set-literal` value (no escapes, no lists, no inference) into `dest`.
pub fn parse_literal_into(s: &str, dest: &mut Map<String, Value>) -> Result<(), String> {
    let mut p = Parser { s, pos: 0, kind: ValueKind::String, literal: true, nesting: 0 };
    p.run(dest)
}

struct Parser<'s, 'k> {
    s: &'s str,
    pos: usize,
    kind: ValueKind<'k>,
    literal: bool,
    /// How deep the value being built nests now (maps and lists).
    nesting: usize,
}

fn go_type(v: Option<&Value>) -> &'static str {
    match v {
        None | Some(Value::Null) => "nil",
        Some(Value::Bool(_)) => "bool",
        Some(Value::Number(n)) if n.is_f64() => "float64",
        Some(Value::Number(_)) => "int64",
        Some(Value::String(_)) => "string",
        Some(Value::Array(_)) => "[]interface {}",
        Some(Value::Object(_)) => "map[string]interface {}",
    }
}

fn conversion_error(v: Option<&Value>, want: &str) -> Stop {
    Stop::Err(format!("unable to parse key: interface conversion: interface {{}} is {}, not {want}", go_type(v)))
}

fn set(data: &mut Map<String, Value>, key: String, val: Value) {
    if !key.is_empty() {
        data.insert(key, val);
    }
}

fn set_index(list: &mut Vec<Value>, index: i64, val: Value) -> PResult<()> {
    if index < 0 {
        return Err(Stop::Err(format!("negative {index} index not allowed")));
    }
    if index > MAX_INDEX {
        return Err(Stop::Err(format!("index of {index} is greater than maximum supported index of {MAX_INDEX}")));
    }
    let i = index as usize;
    if list.len() <= i {
        list.resize(i + 1, Value::Null);
    }
    list[i] = val;
    Ok(())
}

/// `strconv.Atoi`: optional sign, decimal digits.
fn atoi(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("strconv.Atoi: parsing {s:?}: invalid syntax"));
    }
    s.parse::<i64>().map_err(|_| format!("strconv.Atoi: parsing {s:?}: value out of range"))
}

/// What `--set` infers from a value's text.
pub fn typed_value(v: &str) -> Value {
    if v.eq_ignore_ascii_case("true") {
        return Value::Bool(true);
    }
    if v.eq_ignore_ascii_case("false") {
        return Value::Bool(false);
    }
    if v.eq_ignore_ascii_case("null") {
        return Value::Null;
    }
    if v == "0" {
        return Value::from(0i64);
    }
    if !v.is_empty()
        && !v.starts_with('0')
        && !v.starts_with('_')
        && let Ok(i) = v.parse::<i64>()
    {
        return Value::from(i);
    }
    Value::String(v.to_string())
}

impl Parser<'_, '_> {
    fn run(&mut self, dest: &mut Map<String, Value>) -> Result<(), String> {
        loop {
            match self.key(dest, 0) {
                Ok(()) => {}
                Err(Stop::Eof) => return Ok(()),
                Err(Stop::Err(e)) => return Err(e),
            }
        }
    }

    fn read(&mut self) -> Option<char> {
        let c = self.s[self.pos..].chars().next()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn unread(&mut self, c: char) {
        self.pos -= c.len_utf8();
    }

    /// Read up to (and consuming) a stop character. `Err(text)` at end of input.
    fn until(&mut self, stop: &[char]) -> Result<(String, char), String> {
        let mut v = String::new();
        loop {
            let Some(c) = self.read() else { return Err(v) };
            if stop.contains(&c) {
                return Ok((v, c));
            }
            if c == '\\' && !self.literal {
                match self.read() {
                    Some(n) => v.push(n),
                    None => return Err(v),
                }
            } else {
                v.push(c);
            }
        }
    }

    fn reader(&self, text: &str) -> PResult<Value> {
        match self.kind {
            ValueKind::Typed => Ok(typed_value(text)),
            ValueKind::String | ValueKind::Json => Ok(Value::String(text.to_string())),
            ValueKind::File(read) => read(text).map(Value::String).map_err(Stop::Err),
        }
    }

    fn key(&mut self, data: &mut Map<String, Value>, level: usize) -> PResult<()> {
        let stop: &[char] = if self.literal { &['=', '[', '.'] } else { &['=', '[', ',', '.'] };
        let (k, last) = match self.until(stop) {
            Ok(x) => x,
            Err(k) if k.is_empty() => return Err(Stop::Eof),
            Err(k) => return Err(Stop::Err(format!("key {k:?} has no value"))),
        };
        match last {
            '[' => {
                let i = self.key_index()?;
                let mut list = match data.remove(&k) {
                    None => Vec::new(),
                    Some(Value::Array(l)) => l,
                    Some(other) => return Err(conversion_error(Some(&other), "[]interface {}")),
                };
                let r = self.list_item(&mut list, i, level);
                set(data, k, Value::Array(list));
                r
            }
            '=' => self.assign(data, k),
            ',' => {
                set(data, k.clone(), Value::String(String::new()));
                Err(Stop::Err(format!("key {k:?} has no value (cannot end with ,)")))
            }
            _ => {
                let level = level + 1;
                if level > MAX_NESTED_NAME_LEVEL {
                    return Err(Stop::Err(format!(
                        "value name nested level is greater than maximum supported nested level of {MAX_NESTED_NAME_LEVEL}"
                    )));
                }
                let (mut inner, existed) = match data.remove(&k) {
                    None => (Map::new(), false),
                    Some(Value::Object(m)) => (m, true),
                    Some(other) => return Err(conversion_error(Some(&other), "map[string]interface {}")),
                };
                let r = self.key(&mut inner, level);
                let empty = inner.is_empty();
                if existed || !empty {
                    set(data, k.clone(), Value::Object(inner));
                }
                if r.is_ok() && empty {
                    return Err(Stop::Err(format!("key map {k:?} has no value")));
                }
                r
            }
        }
    }

    /// `key=` seen: read the value and store it under `k`.
    fn assign(&mut self, data: &mut Map<String, Value>, k: String) -> PResult<()> {
        if self.literal {
            let rest = self.s[self.pos..].to_string();
            self.pos = self.s.len();
            set(data, k, Value::String(rest));
            return Ok(());
        }
        if let ValueKind::Json = self.kind {
            let v = self.json_value()?;
            set(data, k, v);
            self.empty_val();
            return Ok(());
        }
        match self.val_list() {
            Ok(Some(list)) => {
                set(data, k, Value::Array(list));
                Ok(())
            }
            Err(Stop::Eof) => {
                set(data, k, Value::String(String::new()));
                Err(Stop::Eof)
            }
            Err(e) => Err(e),
            Ok(None) => {
                let rs = self.until(&[',']).map_or_else(|v| v, |(v, _)| v);
                let v = self.reader(&rs);
                match v {
                    Ok(v) => {
                        set(data, k, v);
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// A `--set-json` value at the cursor: null when empty, else one JSON value.
    fn json_value(&mut self) -> PResult<Value> {
        if self.empty_val() {
            return Ok(Value::Null);
        }
        let rest = &self.s[self.pos..];
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
        match stream.next() {
            Some(Ok(v)) => {
                self.pos += stream.byte_offset();
                Ok(super::values::numbers_to_f64(v))
            }
            Some(Err(e)) => Err(Stop::Err(e.to_string())),
            None => Err(Stop::Eof),
        }
    }

    /// Skip blanks; true (and consume it) at a comma or the end.
    fn empty_val(&mut self) -> bool {
        loop {
            match self.read() {
                None | Some(',') => return true,
                Some(c) if c.is_whitespace() => {}
                Some(c) => {
                    self.unread(c);
                    return false;
                }
            }
        }
    }

    fn key_index(&mut self) -> PResult<i64> {
        match self.until(&[']']) {
            Err(_) => Err(Stop::Eof),
            Ok((v, _)) => atoi(&v).map_err(|e| Stop::Err(format!("error parsing index: {e}"))),
        }
    }

    /// `{a,b}` list: `Ok(None)` when the value does not start with `{`.
    fn val_list(&mut self) -> PResult<Option<Vec<Value>>> {
        match self.read() {
            None => return Err(Stop::Eof),
            Some('{') => {}
            Some(c) => {
                self.unread(c);
                return Ok(None);
            }
        }
        let mut list = Vec::new();
        loop {
            match self.until(&[',', '}']) {
                Err(_) => return Err(Stop::Err("list must terminate with '}'".into())),
                Ok((rs, '}')) => {
                    if let Some(c) = self.read()
                        && c != ','
                    {
                        self.unread(c);
                    }
                    list.push(self.reader(&rs)?);
                    return Ok(Some(list));
                }
                Ok((rs, _)) => list.push(self.reader(&rs)?),
            }
        }
    }

    fn list_item(&mut self, list: &mut Vec<Value>, i: i64, level: usize) -> PResult<()> {
        // Helm counts only `.` levels; nested indexes (`a[0][0]...`) are
        // bounded here too, by the nesting limit of every value.
        if self.nesting + level >= MAX_NESTING {
            return Err(Stop::Err(format!(
                "value nests deeper than the maximum supported {MAX_NESTING} levels (lists and maps)"
            )));
        }
        if i < 0 {
            return Err(Stop::Err(format!("negative {i} index not allowed")));
        }
        let (k, last) = match self.until(&['[', '.', '=']) {
            Ok(x) => x,
            Err(k) if !k.is_empty() => {
                return Err(Stop::Err(format!("unexpected data at end of array index: {k:?}")));
            }
            Err(_) => return Err(Stop::Eof),
        };
        if !k.is_empty() {
            return Err(Stop::Err(format!("unexpected data at end of array index: {k:?}")));
        }
        match last {
            '=' => {
                if self.literal {
                    let rest = self.s[self.pos..].to_string();
                    self.pos = self.s.len();
                    return set_index(list, i, Value::String(rest));
                }
                if let ValueKind::Json = self.kind {
                    let v = self.json_value()?;
                    set_index(list, i, v)?;
                    self.empty_val();
                    return Ok(());
                }
                match self.val_list() {
                    Ok(Some(vl)) => set_index(list, i, Value::Array(vl)),
                    Err(Stop::Eof) => set_index(list, i, Value::String(String::new())),
                    Err(e) => Err(e),
                    Ok(None) => {
                        let rs = self.until(&[',']).map_or_else(|v| v, |(v, _)| v);
                        let v = self.reader(&rs)?;
                        set_index(list, i, v)
                    }
                }
            }
            '[' => {
                let next = self.key_index()?;
                let mut inner = match list.get_mut(i as usize) {
                    Some(Value::Null) | None => Vec::new(),
                    Some(Value::Array(l)) => std::mem::take(l),
                    Some(other) => return Err(conversion_error(Some(other), "[]interface {}")),
                };
                self.nesting += 1;
                let r = self.list_item(&mut inner, next, level);
                self.nesting -= 1;
                r?;
                set_index(list, i, Value::Array(inner))
            }
            _ => {
                let mut inner = match list.get_mut(i as usize) {
                    Some(Value::Object(m)) => std::mem::take(m),
                    _ => Map::new(),
                };
                self.key(&mut inner, level)?;
                set_index(list, i, Value::Object(inner))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(s: &str) -> Result<Value, String> {
        let mut m = Map::new();
        parse_into(s, &mut m, ValueKind::Typed)?;
        Ok(Value::Object(m))
    }

    #[test]
    fn paths_lists_and_types() {
        assert_eq!(
            set("a.b=1,l[1]=x,m={a,b},s=007").unwrap(),
            json!({"a": {"b": 1}, "l": [null, "x"], "m": ["a", "b"], "s": "007"})
        );
        assert_eq!(set("a\\.b=x\\,y").unwrap(), json!({"a.b": "x,y"}));
        assert_eq!(set("l[0=x,b=1").unwrap(), json!({}));
    }

    #[test]
    fn errors() {
        assert_eq!(set("a.b").unwrap_err(), "key \"b\" has no value");
        assert!(set("a=1,a.b=2").unwrap_err().contains("interface conversion"));
        assert!(set("l[-1]=x").unwrap_err().contains("negative"));
    }
}
