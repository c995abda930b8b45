//! Text to objects: the one place a YAML/JSON stream becomes [`Object`]s.
//! Every renderer whose tool prints manifests (files, templates, plugins)
//! goes through [`decode_manifests`].

use std::sync::Arc;

use serde_json::Value;

use super::limits::Budget;
use crate::error::{Error, Result};
use crate::model::{Object, Origin};
use crate::yaml::{Dialect, Document, DuplicateKeys, ParseLimits, YamlError, parse_stream_limited};

/// Decode a YAML or JSON stream into objects. `file` names the source in
/// origins and errors. Empty documents are skipped; `List`s are flattened.
/// The text and whatever its aliases expand to are charged to `budget`,
/// and values may nest no deeper than it allows.
pub fn decode_manifests(text: &str, file: &str, dialect: Dialect, budget: &Budget) -> Result<Vec<Object>> {
    budget.check_time(file)?;
    budget.charge(text.len() as u64, file)?;
    let file: Arc<str> = Arc::from(file);
    let docs = parse_documents(text, &file, dialect, budget)?;
    let mut out = Vec::with_capacity(docs.len());
    for (index, doc) in docs.into_iter().enumerate() {
        let origin = Origin { file: file.clone(), document: index, line: doc.line };
        push_manifest(doc.value, origin, &mut out)?;
    }
    Ok(out)
}

/// One non-empty document of a stream: its own `kind` and
/// `metadata.annotations` (a `List`'s, not its items') and the objects it
/// decoded into. Tools that order or classify whole documents (helm sorts
/// and picks hooks by a document's head) read these.
#[derive(Debug)]
pub struct Manifest {
    pub kind: String,
    pub annotations: serde_json::Map<String, Value>,
    pub objects: Vec<Object>,
}

impl Manifest {
    /// The document's own annotation `key`, when it is a string.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.get(key)?.as_str()
    }
}

/// Like [`decode_manifests`], keeping each document's head with its objects.
pub fn decode_documents(text: &str, file: &str, dialect: Dialect, budget: &Budget) -> Result<Vec<Manifest>> {
    budget.check_time(file)?;
    budget.charge(text.len() as u64, file)?;
    let file: Arc<str> = Arc::from(file);
    let docs = parse_documents(text, &file, dialect, budget)?;
    let mut out = Vec::with_capacity(docs.len());
    for (index, doc) in docs.into_iter().enumerate() {
        let origin = Origin { file: file.clone(), document: index, line: doc.line };
        out.extend(manifest(doc.value, origin)?);
    }
    Ok(out)
}

/// One document's text to decode with [`decode_each`].
#[derive(Debug, Clone)]
pub struct DocumentText<'a> {
    pub text: &'a str,
    /// Names the source in origins and errors.
    pub file: Arc<str>,
    /// The document's index in its file.
    pub index: usize,
    /// The line of the file where `text` starts (1-based).
    pub line: usize,
    /// Read a text starting with `{` as JSON first, as [`decode_manifests`]
    /// does for a whole file (a document that is not its file's only one is
    /// YAML).
    pub json: bool,
}

/// [`decode_documents`] for many texts on all cores: each text's documents,
/// in order, their origins and errors placed by the text's file, index and
/// line. The first error (in text order) is returned.
pub fn decode_each(texts: &[DocumentText<'_>], dialect: Dialect, budget: &Budget) -> Result<Vec<Manifest>> {
    let decode = |t: &DocumentText<'_>| -> Result<Vec<Manifest>> {
        budget.check_time(&t.file)?;
        budget.charge(t.text.len() as u64, &t.file)?;
        let shift = t.line - 1;
        let docs = parse_documents_as(t.text, &t.file, dialect, budget, t.json).map_err(|e| match e {
            Error::Yaml { file, mut source } => {
                source.line += shift;
                Error::Yaml { file, source }
            }
            e => e,
        })?;
        let mut out = Vec::with_capacity(docs.len());
        for (i, doc) in docs.into_iter().enumerate() {
            let origin = Origin { file: t.file.clone(), document: t.index + i, line: doc.line + shift };
            if let Some(m) = manifest(doc.value, origin)? {
                out.push(m);
            }
        }
        Ok(out)
    };
    let results = parallel_map(texts, decode);
    let mut out = Vec::with_capacity(texts.len());
    for r in results {
        out.extend(r?);
    }
    Ok(out)
}

/// `f` over `items` on all cores (workers take the next item as they go),
/// results in the order of `items`.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(items.len());
    if workers <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    let work = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else { break };
            let r = f(item);
            *slots[i].lock().expect("decode slot") = Some(r);
        }
    };
    // this thread is one of the workers
    std::thread::scope(|s| {
        for _ in 1..workers {
            s.spawn(work);
        }
        work();
    });
    slots.into_iter().map(|m| m.into_inner().expect("decode slot").expect("every item decoded")).collect()
}

/// One decoded document with its head, `None` when it is empty.
fn manifest(value: Value, origin: Origin) -> Result<Option<Manifest>> {
    if value.is_null() {
        return Ok(None);
    }
    let kind = value.get("kind").and_then(Value::as_str).unwrap_or_default().to_string();
    let annotations = match value.get("metadata").and_then(|m| m.get("annotations")) {
        Some(Value::Object(a)) => a.clone(),
        _ => serde_json::Map::new(),
    };
    let mut objects = Vec::with_capacity(1);
    push_manifest(value, origin, &mut objects)?;
    Ok(Some(Manifest { kind, annotations, objects }))
}

/// Turn one decoded document into objects (flattening Lists) and append them.
pub fn push_manifest(value: Value, origin: Origin, out: &mut Vec<Object>) -> Result<()> {
    if value.is_null() {
        return Ok(());
    }
    if Object::is_list(&value) {
        let Value::Object(mut m) = value else { unreachable!() };
        if let Some(Value::Array(items)) = m.remove("items") {
            for item in items {
                push_manifest(item, origin.clone(), out)?;
            }
        }
        return Ok(());
    }
    out.push(Object::new(value, origin.clone()).map_err(|source| Error::Invalid { origin, source })?);
    Ok(())
}

/// Like kubectl's YAML-or-JSON decoder: a stream starting with `{` is read
/// as a sequence of JSON values, anything else as YAML.
fn parse_documents(text: &str, file: &str, dialect: Dialect, budget: &Budget) -> Result<Vec<Document>> {
    parse_documents_as(text, file, dialect, budget, true)
}

/// [`parse_documents`], trying JSON first only when `json` allows it.
fn parse_documents_as(text: &str, file: &str, dialect: Dialect, budget: &Budget, json: bool) -> Result<Vec<Document>> {
    let trimmed = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
    if json
        && trimmed.starts_with('{')
        && let Ok(docs) = parse_json_stream(text)
        && docs.iter().all(|d| crate::model::depth_within(&d.value, budget.max_depth()))
    {
        return Ok(docs);
    }
    let limits = ParseLimits {
        max_depth: budget.max_depth(),
        max_alias_weight: budget.output_left().min(crate::yaml::MAX_ALIAS_WEIGHT),
    };
    let by_budget = limits.max_alias_weight < crate::yaml::MAX_ALIAS_WEIGHT;
    let parsed = parse_stream_limited(text, dialect, DuplicateKeys::Error, limits).map_err(|source| {
        // Aliases stopped by what is left of the render's output budget: say so.
        if by_budget && source.message.starts_with("document contains excessive aliasing") {
            return budget.exceeded(super::limits::Limit::Output, file);
        }
        Error::Yaml { file: file.to_string(), source }
    })?;
    budget.charge(parsed.alias_weight, file)?;
    Ok(parsed.docs)
}

fn parse_json_stream(text: &str) -> Result<Vec<Document>, YamlError> {
    let mut docs = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    loop {
        let offset = stream.byte_offset();
        match stream.next() {
            None => break,
            Some(Ok(value)) => {
                let start = offset + text[offset..].len() - text[offset..].trim_start().len();
                let line = 1 + text.as_bytes()[..start].iter().filter(|&&b| b == b'\n').count();
                docs.push(Document { value, line });
            }
            Some(Err(e)) => return Err(YamlError { line: e.line(), column: e.column(), message: e.to_string() }),
        }
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_flattened_and_empty_documents_skipped() {
        let text = "---\n---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- apiVersion: v1\n  kind: ConfigMapList\n  items:\n  - {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n---\n# nothing\n";
        let objs = decode_manifests(text, "l.yaml", Dialect::Kubectl, &Budget::default()).unwrap();
        let names: Vec<&str> = objs.iter().map(|o| o.name()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(objs[0].origin.line, 3);
    }

    #[test]
    fn documents_keep_their_heads() {
        let text = "apiVersion: v1\nkind: List\nmetadata:\n  annotations: {a: x}\nitems:\n- {apiVersion: v1, kind: Service, metadata: {name: a}}\n- {apiVersion: v1, kind: Service, metadata: {name: b}}\n---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, annotations: {a: v}}\n";
        let docs = decode_documents(text, "l.yaml", Dialect::Kubectl, &Budget::default()).unwrap();
        let heads: Vec<(&str, Option<&str>, usize)> =
            docs.iter().map(|d| (d.kind.as_str(), d.annotation("a"), d.objects.len())).collect();
        assert_eq!(heads, [("List", Some("x"), 2), ("ConfigMap", Some("v"), 1)]);
        assert_eq!(docs[0].objects[1].name(), "b");
        assert_eq!(docs[1].objects[0].origin.document, 2);
    }

    #[test]
    fn each_text_keeps_its_place() {
        let file: Arc<str> = Arc::from("t.yaml");
        let text = |text, index, line| DocumentText { text, file: file.clone(), index, line, json: false };
        let texts = [
            text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}", 0, 1),
            text("", 1, 5),
            text("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: b}}", 2, 7),
        ];
        let docs = decode_each(&texts, Dialect::Kubectl, &Budget::default()).unwrap();
        let got: Vec<(&str, usize, usize)> =
            docs.iter().flat_map(|d| d.objects.iter()).map(|o| (o.name(), o.origin.document, o.origin.line)).collect();
        assert_eq!(got, [("a", 0, 1), ("b", 2, 7)]);
        assert_eq!(docs[1].kind, "List");
        // errors name the line of the whole file
        let bad = [text("a: 1", 0, 1), text("kind: x\n  y: 2", 1, 3)];
        let err = decode_each(&bad, Dialect::Kubectl, &Budget::default()).unwrap_err().to_string();
        assert!(err.starts_with("t.yaml:1:"), "{err}");
        let bad = [text("apiVersion: v1\nkind: A\nmetadata: {name: a}", 0, 1), text("kind: x\n  y: 2", 1, 3)];
        let err = decode_each(&bad, Dialect::Kubectl, &Budget::default()).unwrap_err().to_string();
        assert!(err.starts_with("t.yaml:4:"), "{err}");
    }

    #[test]
    fn json_streams_have_lines() {
        let text = "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"a\"}, \"data\": {\"x\": 1.0}}\n\n{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"b\"}}";
        let objs = decode_manifests(text, "s.json", Dialect::Kubectl, &Budget::default()).unwrap();
        assert_eq!(objs.len(), 2);
        assert_eq!(objs[1].origin.line, 3);
    }

    #[test]
    fn errors_name_file_and_line() {
        let err = decode_manifests(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\nkind: ConfigMap\nmetadata: {name: b}\n",
            "x.yaml",
            Dialect::Kubectl,
            &Budget::default(),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(err, "x.yaml:6: missing or invalid field `apiVersion`");
        let err =
            decode_manifests("a: b: c\n", "y.yaml", Dialect::Kubectl, &Budget::default()).unwrap_err().to_string();
        assert!(err.starts_with("y.yaml:1:"), "{err}");
        let err = decode_manifests("- 1\n", "z.yaml", Dialect::Kubectl, &Budget::default()).unwrap_err().to_string();
        assert_eq!(err, "z.yaml:1: document is not a mapping (found a sequence)");
    }
}
