//! The kustomization field `openapi`: a custom OpenAPI (v2) schema file
//! (`path`, JSON or YAML) or a built-in schema version (`version`), whose
//! `x-kubernetes-patch-strategy`, `x-kubernetes-patch-merge-key` and
//! `x-kubernetes-list-map-keys` extensions give strategic merge patches
//! their merge keys for the kinds it describes (found through
//! `x-kubernetes-group-version-kind`).
//!
//! As in kustomize, one schema holds for the whole build: the top
//! kustomization sets it when it has the field; otherwise the first nested
//! kustomization or component (in build order) that has it does, and later
//! ones are ignored. A custom schema replaces the built-in one; but where
//! kustomize had already read the built-in schema before the custom one was
//! set (a strategic merge patch ran, or a resource of a kind it has no
//! precomputed scope for was loaded), it layers the custom definitions over
//! the built-in ones: built-in kinds keep their merge keys and the custom
//! schema's `$ref`s may name built-in definitions (checked against
//! `kubectl kustomize` v5.5).

use std::collections::HashMap;
use std::rc::Rc;

use serde_json::{Map, Value};

use super::smp::{Def, FieldView, Keys, builtin_by_name, root_def};
use super::target::Target;
use crate::yaml::Dialect;

/// The only built-in schema version kustomize v5.5 ships (its default);
/// served by our generated table.
pub const BUILTIN_VERSION: &str = "v1.21.2";

/// The schema state of one build (kustomize's global OpenAPI schema).
#[derive(Debug, Default)]
pub struct State {
    /// A kustomization has chosen the schema; later choices are ignored.
    set: bool,
    /// The custom schema in effect, if any.
    custom: Option<Rc<CustomSchema>>,
    /// kustomize would have read the built-in schema by now.
    builtin_read: bool,
}

impl State {
    pub fn custom(&self) -> Option<Rc<CustomSchema>> {
        self.custom.clone()
    }

    /// Something that makes kustomize read the built-in schema happened.
    pub fn note_builtin_read(&mut self) {
        if !self.set || self.custom.is_none() {
            self.builtin_read = true;
        }
    }
}

/// Definition name -> (index, definition).
type Index<'a> = HashMap<&'a str, (u32, &'a Value)>;

fn ref_name(r: &str) -> &str {
    r.strip_prefix("#/definitions/").unwrap_or(r)
}

/// A custom schema, reduced to what strategic merge needs.
#[derive(Debug, Default)]
pub struct CustomSchema {
    nodes: Vec<Node>,
    roots: HashMap<(String, String, String), u32>,
    /// Built-in kinds and definitions stay visible (see the module doc).
    layered: bool,
}

#[derive(Debug, Default)]
struct Node {
    /// Sorted by name.
    fields: Vec<CField>,
    /// `additionalProperties`: the schema of every other key.
    other: Option<CField>,
}

#[derive(Debug)]
struct CField {
    name: String,
    def: Option<Def>,
    merge: bool,
    keys: Vec<String>,
}

impl CustomSchema {
    /// Read an OpenAPI v2 document (its `definitions`). `layered`: `$ref`s
    /// to definitions it lacks and kinds it lacks fall back to the built-in
    /// schema.
    pub fn parse(doc: &Value, layered: bool) -> Result<CustomSchema, String> {
        let defs = match doc.get("definitions") {
            Some(Value::Object(m)) => m,
            None | Some(Value::Null) => &Map::new(),
            Some(_) => return Err("definitions: expected a mapping".into()),
        };
        let index: Index<'_> = defs.iter().enumerate().map(|(i, (k, d))| (k.as_str(), (i as u32, d))).collect();
        let mut schema = CustomSchema { nodes: Vec::new(), roots: HashMap::new(), layered };
        schema.nodes.resize_with(defs.len(), Node::default);
        for (i, (name, d)) in defs.iter().enumerate() {
            let node = schema.node(d, &index).map_err(|e| format!("definitions.{name}: {e}"))?;
            schema.nodes[i] = node;
            if let Some(Value::Array(gvks)) = d.get("x-kubernetes-group-version-kind") {
                for g in gvks {
                    let part = |k: &str| g.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
                    schema.roots.insert((part("group"), part("version"), part("kind")), i as u32);
                }
            }
        }
        Ok(schema)
    }

    /// The node of a schema object: its properties and additionalProperties.
    fn node(&mut self, s: &Value, index: &Index<'_>) -> Result<Node, String> {
        let mut node = Node::default();
        if let Some(props) = s.get("properties") {
            let Value::Object(props) = props else { return Err("properties: expected a mapping".into()) };
            for (name, p) in props {
                let f = self.field(name, p, index).map_err(|e| format!("properties.{name}: {e}"))?;
                node.fields.push(f);
            }
        }
        if let Some(p @ Value::Object(_)) = s.get("additionalProperties") {
            node.other = Some(self.field("", p, index).map_err(|e| format!("additionalProperties: {e}"))?);
        }
        node.fields.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(node)
    }

    fn field(&mut self, name: &str, p: &Value, index: &Index<'_>) -> Result<CField, String> {
        // kyaml resolves a property's `$ref` first: the definition it names
        // then stands for the property, extensions and items included.
        let mut resolved = None;
        if let Some(r) = p.get("$ref") {
            let r = r.as_str().ok_or("$ref: expected a string")?;
            resolved = index.get(ref_name(r)).copied();
        }
        let p = resolved.map_or(p, |(_, d)| d);
        let (merge, keys) = strategy(p)?;
        let def = match (p.get("items"), resolved) {
            (Some(items), _) if items.is_object() => self.def_of(items, index)?,
            (_, Some((i, _))) => Some(Def::Custom(i)),
            _ => self.def_of(p, index)?,
        };
        Ok(CField { name: name.to_string(), def, merge, keys })
    }

    /// Where a schema object leads: a `$ref`'d definition, or a new node
    /// for an inline object.
    fn def_of(&mut self, s: &Value, index: &Index<'_>) -> Result<Option<Def>, String> {
        if let Some(r) = s.get("$ref") {
            let r = r.as_str().ok_or("$ref: expected a string")?;
            let name = ref_name(r);
            return Ok(match index.get(name) {
                Some(&(i, _)) => Some(Def::Custom(i)),
                None if self.layered => builtin_by_name(name).map(Def::Builtin),
                None => None,
            });
        }
        if s.get("properties").is_none() && s.get("additionalProperties").is_none_or(|a| !a.is_object()) {
            return Ok(None);
        }
        let node = self.node(s, index)?;
        self.nodes.push(node);
        Ok(Some(Def::Custom((self.nodes.len() - 1) as u32)))
    }

    /// The definition of a kind, by its group, version and kind.
    pub fn root(&self, group: &str, version: &str, kind: &str) -> Option<Def> {
        let key = (group.to_string(), version.to_string(), kind.to_string());
        match self.roots.get(&key) {
            Some(&i) => Some(Def::Custom(i)),
            None if self.layered => root_def(group, version, kind).map(Def::Builtin),
            None => None,
        }
    }

    /// A field of one of this schema's definitions.
    pub fn field_view(&self, def: u32, name: &str) -> Option<FieldView<'_>> {
        let node = self.nodes.get(def as usize)?;
        let f = match node.fields.binary_search_by(|f| f.name.as_str().cmp(name)) {
            Ok(i) => &node.fields[i],
            Err(_) => node.other.as_ref()?,
        };
        Some(FieldView { def: f.def, merge: f.merge, keys: Keys::Custom(&f.keys) })
    }
}

/// Whether a list field merges, and its merge keys: the keys of
/// `x-kubernetes-list-map-keys`, else `x-kubernetes-patch-merge-key`, and
/// none without an `x-kubernetes-patch-strategy` (kyaml's
/// `PatchStrategyAndKeyList`).
fn strategy(p: &Value) -> Result<(bool, Vec<String>), String> {
    let strategy = p.get("x-kubernetes-patch-strategy").and_then(Value::as_str).unwrap_or_default();
    let mut keys = Vec::new();
    if !strategy.is_empty() {
        match (p.get("x-kubernetes-list-map-keys"), p.get("x-kubernetes-patch-merge-key")) {
            (Some(Value::Array(list)), _) => {
                for k in list {
                    keys.push(k.as_str().ok_or("x-kubernetes-list-map-keys: expected strings")?.to_string());
                }
            }
            (_, Some(Value::String(k))) => keys.push(k.clone()),
            _ => {}
        }
    }
    Ok((strategy.split(',').any(|s| s == "merge"), keys))
}

/// The `openapi` field of a kustomization as kustomize reads it: a
/// mapping of strings.
fn field_map(t: &Target) -> Result<Option<Map<String, Value>>, String> {
    match &t.k.openapi {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => {
            if let Some((k, _)) = m.iter().find(|(_, v)| !v.is_string()) {
                return Err(format!("{}: openapi.{k}: expected a string", t.label));
            }
            Ok(Some(m.clone()))
        }
        Some(_) => Err(format!("{}: openapi: expected a mapping (path or version)", t.label)),
    }
}

/// kustomize's `SetSchema` for one kustomization; `reset` for the top one.
pub fn set_schema(t: &Target, reset: bool) -> Result<(), String> {
    let Some(field) = field_map(t)? else { return Ok(()) };
    let get = |k: &str| field.get(k).and_then(Value::as_str);
    // The file is read (and must exist) even when a schema is already set.
    let text = match get("path") {
        Some(path) => {
            let bytes = t.read_file(path).map_err(|e| format!("{}: openapi path '{path}': {e}", t.label))?;
            let text =
                String::from_utf8(bytes).map_err(|_| format!("{}: openapi path '{path}': not UTF-8", t.label))?;
            Some((path, text))
        }
        None => None,
    };
    let mut state = t.build.openapi.borrow_mut();
    if state.set && !reset {
        return Ok(());
    }
    if let Some((path, text)) = text {
        if get("version").is_some() {
            return Err(format!("{}: openapi: builtin version and custom schema provided, cannot use both", t.label));
        }
        let doc = crate::yaml::parse_one(&text, Dialect::Kustomize)
            .map_err(|e| format!("{}: openapi path '{path}': line {}: {}", t.label, e.line, e.message))?;
        let schema = CustomSchema::parse(&doc, state.builtin_read)
            .map_err(|e| format!("{}: openapi path '{path}': {e}", t.label))?;
        state.set = true;
        state.custom = Some(Rc::new(schema));
        return Ok(());
    }
    match get("version").unwrap_or_default() {
        "" => {}
        BUILTIN_VERSION => {
            state.set = true;
            state.custom = None;
        }
        other => {
            return Err(format!(
                "{}: openapi version '{other}': the specified OpenAPI version is not built in (only {BUILTIN_VERSION})",
                t.label
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::smp::strategic_merge_with;
    use super::*;
    use serde_json::json;

    fn crd_schema() -> Value {
        json!({"definitions": {
            "v1.Thing": {
                "properties": {"spec": {"properties": {
                    "items": {"type": "array", "items": {"$ref": "#/definitions/v1.Item"},
                        "x-kubernetes-patch-strategy": "merge", "x-kubernetes-patch-merge-key": "name"},
                    "ports": {"type": "array", "items": {"type": "object"},
                        "x-kubernetes-patch-strategy": "merge", "x-kubernetes-patch-merge-key": "port",
                        "x-kubernetes-list-map-keys": ["port", "protocol"]},
                    "template": {"$ref": "#/definitions/io.k8s.api.core.v1.PodTemplateSpec"},
                    "named": {"$ref": "#/definitions/v1.ItemList", "x-kubernetes-patch-strategy": "replace"}
                }}},
                "x-kubernetes-group-version-kind": [{"group": "example.com", "version": "v1", "kind": "Thing"}]
            },
            "v1.ItemList": {"type": "array", "items": {"$ref": "#/definitions/v1.Item"},
                "x-kubernetes-patch-strategy": "merge", "x-kubernetes-patch-merge-key": "name"},
            "v1.Item": {"properties": {"tags": {"type": "array", "items": {"type": "string"},
                "x-kubernetes-patch-strategy": "merge"}}}
        }})
    }

    fn merge(schema: &CustomSchema, target: Value, patch: Value, kind: (&str, &str, &str)) -> Value {
        let mut t = target;
        assert!(strategic_merge_with(&mut t, &patch, kind, Some(schema)).unwrap());
        t
    }

    const THING: (&str, &str, &str) = ("example.com", "v1", "Thing");

    #[test]
    fn custom_kinds_merge_by_their_keys() {
        let s = CustomSchema::parse(&crd_schema(), false).unwrap();
        let out = merge(
            &s,
            json!({"spec": {"items": [{"name": "a", "v": 1, "tags": ["x"]}, {"name": "b"}]}}),
            json!({"spec": {"items": [{"name": "a", "v": 2, "tags": ["y"]}]}}),
            THING,
        );
        assert_eq!(out["spec"]["items"], json!([{"name": "a", "v": 2, "tags": ["y", "x"]}, {"name": "b"}]));
        // A `$ref`'d definition stands for the property, extensions included.
        let out = merge(
            &s,
            json!({"spec": {"named": [{"name": "a", "tags": ["x"]}, {"name": "b"}]}}),
            json!({"spec": {"named": [{"name": "a", "tags": ["y"]}]}}),
            THING,
        );
        assert_eq!(out["spec"]["named"], json!([{"name": "a", "tags": ["y", "x"]}, {"name": "b"}]));
        // x-kubernetes-list-map-keys wins over the single merge key.
        let out = merge(
            &s,
            json!({"spec": {"ports": [{"port": 80, "protocol": "TCP", "n": 1}, {"port": 80, "protocol": "UDP"}]}}),
            json!({"spec": {"ports": [{"port": 80, "protocol": "UDP", "n": 2}]}}),
            THING,
        );
        assert_eq!(
            out["spec"]["ports"],
            json!([{"port": 80, "protocol": "UDP", "n": 2}, {"port": 80, "protocol": "TCP", "n": 1}])
        );
    }

    #[test]
    fn custom_schema_replaces_builtin_unless_layered() {
        let dep = ("apps", "v1", "Deployment");
        let target =
            json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "a"}, {"name": "b"}]}}}});
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "a2"}]}}}});
        let alone = CustomSchema::parse(&crd_schema(), false).unwrap();
        let out = merge(&alone, target.clone(), patch.clone(), dep);
        assert_eq!(out["spec"]["template"]["spec"]["containers"], json!([{"name": "a", "image": "a2"}]));
        // The unresolved $ref to PodTemplateSpec: lists below it replace.
        let out = merge(&alone, target.clone(), patch.clone(), THING);
        assert_eq!(out["spec"]["template"]["spec"]["containers"], json!([{"name": "a", "image": "a2"}]));
        let layered = CustomSchema::parse(&crd_schema(), true).unwrap();
        let merged = json!([{"name": "a", "image": "a2"}, {"name": "b"}]);
        let out = merge(&layered, target.clone(), patch.clone(), dep);
        assert_eq!(out["spec"]["template"]["spec"]["containers"], merged);
        let out = merge(&layered, target, patch, THING);
        assert_eq!(out["spec"]["template"]["spec"]["containers"], merged);
    }

    #[test]
    fn bad_documents_are_errors() {
        assert!(CustomSchema::parse(&json!({"definitions": []}), false).is_err());
        let e =
            CustomSchema::parse(&json!({"definitions": {"x": {"properties": {"a": {"$ref": 3}}}}}), false).unwrap_err();
        assert!(e.contains("definitions.x: properties.a"), "{e}");
        assert!(CustomSchema::parse(&json!({}), false).unwrap().roots.is_empty());
    }
}
