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
        if doc.value.is_null() {
            continue;
        }
        let kind = doc.value.get("kind").and_then(Value::as_str).unwrap_or_default().to_string();
        let annotations = match doc.value.get("metadata").and_then(|m| m.get("annotations")) {
            Some(Value::Object(a)) => a.clone(),
            _ => serde_json::Map::new(),
        };
        let mut objects = Vec::with_capacity(1);
        let origin = Origin { file: file.clone(), document: index, line: doc.line };
        push_manifest(doc.value, origin, &mut objects)?;
        out.push(Manifest { kind, annotations, objects });
    }
    Ok(out)
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
    let trimmed = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
    if trimmed.starts_with('{')
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
