//! The three write-back targets, as text in, text out (pure):
//!
//! - [`override_file`]: `.argocd-source-<app>.yaml` with `helm.parameters`
//!   or `kustomize.images`, merged with what the file holds (a parameter
//!   replaced by name, an image by its name; other keys kept), written in
//!   Image Updater's layout (`forcestring`, two-space indent, list items
//!   under their key);
//! - [`kustomization_images`]: the `images` of a kustomization, each entry
//!   set by `name` (replaced whole, or appended); everything outside the
//!   `images` block is kept byte for byte (order, comments);
//! - [`helm_values`]: scalar values at dotted paths of a Helm values file
//!   (a literal dotted key at the top wins, as Image Updater looks it up);
//!   only the value's text changes, missing keys are added under their
//!   parent.

use serde_json::{Map, Value};

use crate::source::app::KustomizeImage;
use crate::yaml::{Dialect, parse_stream, to_yaml_string};

/// One Helm parameter of an override file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelmParam {
    pub name: String,
    pub value: String,
    pub force_string: bool,
}

/// What an override file carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overrides {
    Helm(Vec<HelmParam>),
    /// `kustomize edit set image` strings.
    Kustomize(Vec<String>),
}

/// A scalar as YAML text (quoted when a reader could take it for another type).
pub fn scalar(s: &str) -> String {
    to_yaml_string(&Value::String(s.to_string())).trim_end_matches('\n').to_string()
}

fn parse_doc(text: &str, what: &str) -> Result<Value, String> {
    let docs = parse_stream(text, Dialect::Kubectl).map_err(|e| format!("{what}: {e}"))?;
    match docs.len() {
        0 => Ok(Value::Object(Map::new())),
        1 => Ok(docs.into_iter().next().map(|d| d.value).unwrap_or(Value::Null)),
        _ => Err(format!("{what}: expected a single YAML document")),
    }
}

/// The override file's new text: `existing` (the file's text, if any) with `overrides` merged in.
pub fn override_file(existing: Option<&str>, overrides: &Overrides) -> Result<String, String> {
    let mut doc = match existing.map(|t| parse_doc(t, "override file")).transpose()? {
        Some(Value::Object(m)) => m,
        Some(Value::Null) | None => Map::new(),
        Some(_) => return Err("the override file is not a mapping".into()),
    };
    let (tool, key) = match overrides {
        Overrides::Helm(_) => ("helm", "parameters"),
        Overrides::Kustomize(_) => ("kustomize", "images"),
    };
    let mut block = match doc.remove(tool) {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let old = block.remove(key);
    let mut out = String::new();
    let mut list = String::new();
    match overrides {
        Overrides::Helm(new) => {
            let mut params: Vec<HelmParam> = old
                .as_ref()
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| {
                    let s = |k: &str| p.get(k).and_then(Value::as_str).map(String::from);
                    let force = p.get("forcestring").or_else(|| p.get("forceString")).and_then(Value::as_bool);
                    Some(HelmParam {
                        name: s("name")?,
                        value: s("value").unwrap_or_default(),
                        force_string: force.unwrap_or(false),
                    })
                })
                .collect();
            for p in new {
                match params.iter_mut().find(|q| q.name == p.name) {
                    Some(q) => *q = p.clone(),
                    None => params.push(p.clone()),
                }
            }
            for p in &params {
                list.push_str(&format!(
                    "  - name: {}\n    value: {}\n    forcestring: {}\n",
                    scalar(&p.name),
                    scalar(&p.value),
                    p.force_string
                ));
            }
        }
        Overrides::Kustomize(new) => {
            let mut images: Vec<String> = old
                .as_ref()
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(String::from))
                .collect();
            for img in new {
                merge_kustomize_image(&mut images, img);
            }
            for i in &images {
                list.push_str(&format!("  - {}\n", scalar(i)));
            }
        }
    }
    // The tool block first (its list first), then the rest as it was.
    out.push_str(&format!("{tool}:\n  {key}:\n{list}"));
    for (k, v) in &block {
        out.push_str(&indent(&to_yaml_string(&Value::Object(Map::from_iter([(k.clone(), v.clone())]))), 2));
    }
    if !doc.is_empty() {
        out.push_str(&to_yaml_string(&Value::Object(doc)));
    }
    Ok(out)
}

fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines().map(|l| if l.is_empty() { "\n".to_string() } else { format!("{pad}{l}\n") }).collect()
}

/// Set one image in a list of `kustomize edit set image` strings, by image
/// name: an entry for the same name is replaced, otherwise the image is
/// appended (Image Updater's `SetKustomizeImage` and `mergeKustomizeOverride`).
pub fn merge_kustomize_image(images: &mut Vec<String>, new: &str) {
    let key = |s: &str| KustomizeImage::parse(s).map(|i| i.name).unwrap_or_else(|_| s.to_string());
    let name = key(new);
    match images.iter_mut().find(|e| key(e) == name) {
        Some(e) => *e = new.to_string(),
        None => images.push(new.to_string()),
    }
}

/// One entry of a kustomization's `images`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageEntry {
    pub name: String,
    pub new_name: Option<String>,
    pub new_tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageEntry {
    fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), Value::String(self.name.clone()));
        for (k, v) in [("newName", &self.new_name), ("newTag", &self.new_tag), ("digest", &self.digest)] {
            if let Some(v) = v {
                m.insert(k.into(), Value::String(v.clone()));
            }
        }
        Value::Object(m)
    }

    fn to_yaml(&self, item_indent: &str) -> String {
        let mut s = format!("{item_indent}- name: {}\n", scalar(&self.name));
        for (k, v) in [("newName", &self.new_name), ("newTag", &self.new_tag), ("digest", &self.digest)] {
            if let Some(v) = v {
                s.push_str(&format!("{item_indent}  {k}: {}\n", scalar(v)));
            }
        }
        s
    }
}

/// The kustomization's new text with `entries` set in `images` by name.
pub fn kustomization_images(text: &str, entries: &[ImageEntry]) -> Result<String, String> {
    let doc = parse_doc(text, "kustomization")?;
    let Value::Object(map) = &doc else { return Err("the kustomization is not a mapping".into()) };
    let mut images: Vec<Value> = match map.get("images") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return Err("images: expected a list".into()),
    };
    for e in entries {
        match images.iter_mut().find(|v| v.get("name").and_then(Value::as_str) == Some(&e.name)) {
            Some(v) => *v = e.to_value(),
            None => images.push(e.to_value()),
        }
    }
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let top_key = |l: &str| !l.starts_with([' ', '\t', '#', '-', '\n', '\r']) && !l.trim().is_empty();
    let start = lines.iter().position(|l| l.starts_with("images:"));
    // The block: the key's line and what follows until the next top-level key,
    // without the blank and comment lines right before that key.
    let (item_indent, before, after) = match start {
        Some(s) => {
            let mut end = lines[s + 1..].iter().position(|l| top_key(l)).map_or(lines.len(), |p| s + 1 + p);
            if !lines[s].trim_end().ends_with(':') && !lines[s].contains('#') {
                end = s + 1; // flow style or a scalar on the key's line
            }
            while end > s + 1 && (lines[end - 1].trim().is_empty() || lines[end - 1].trim_start().starts_with('#')) {
                end -= 1;
            }
            let item_indent = lines[s + 1..end]
                .iter()
                .find(|l| l.trim_start().starts_with('-'))
                .map_or(String::new(), |l| l[..l.len() - l.trim_start().len()].to_string());
            (item_indent, lines[..s].concat(), lines[end..].concat())
        }
        None => {
            let mut head = text.to_string();
            if !head.is_empty() && !head.ends_with('\n') {
                head.push('\n');
            }
            (String::new(), head, String::new())
        }
    };
    let mut block = String::from("images:\n");
    for v in &images {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
        let e = ImageEntry {
            name: s("name").unwrap_or_default(),
            new_name: s("newName"),
            new_tag: s("newTag"),
            digest: s("digest"),
        };
        block.push_str(&e.to_yaml(&item_indent));
    }
    let out = format!("{before}{block}{after}");
    // The edit must mean exactly: the same document with the new images.
    let mut want = map.clone();
    want.insert("images".into(), Value::Array(images));
    if parse_doc(&out, "edited kustomization")? != Value::Object(want) {
        return Err("cannot edit the images of this kustomization without changing the rest (unusual layout)".into());
    }
    Ok(out)
}

/// The values file's new text with each `(path, value)` set as a string.
/// `existing`: the file's text (none or blank: a new file with Image
/// Updater's header comment).
pub fn helm_values(existing: Option<&str>, sets: &[(String, String)]) -> Result<String, String> {
    let blank = existing.is_none_or(|t| t.trim().is_empty());
    let mut text = if blank {
        "# auto generated by argocd image updater\n".to_string()
    } else {
        existing.unwrap_or_default().to_string()
    };
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let mut want = if blank { Value::Object(Map::new()) } else { parse_doc(&text, "values file")? };
    if !want.is_object() {
        return Err("the values file is not a mapping".into());
    }
    for (path, value) in sets {
        text = set_value(&text, path, value)?;
        set_in(&mut want, path, value)?;
    }
    if parse_doc(&text, "edited values file")? != want {
        return Err("cannot set the image values in this values file without changing the rest (unusual layout)".into());
    }
    Ok(text)
}

/// `value` at `path` in a JSON mirror of the file (for the check), as Image Updater resolves it.
fn set_in(doc: &mut Value, path: &str, value: &str) -> Result<(), String> {
    let Value::Object(root) = doc else { return Err("not a mapping".into()) };
    if root.contains_key(path) {
        root.insert(path.to_string(), Value::String(value.into()));
        return Ok(());
    }
    let mut cur = root;
    let keys: Vec<&str> = path.split('.').collect();
    for (i, k) in keys.iter().enumerate() {
        if i == keys.len() - 1 {
            cur.insert(k.to_string(), Value::String(value.into()));
            return Ok(());
        }
        let next = cur.entry(k.to_string()).or_insert_with(|| Value::Object(Map::new()));
        cur = next.as_object_mut().ok_or_else(|| format!("{path}: {k} is not a mapping"))?;
    }
    Ok(())
}

/// Leading spaces of a line.
fn indent_of(l: &str) -> usize {
    l.len() - l.trim_start_matches(' ').len()
}

fn is_content(l: &str) -> bool {
    let t = l.trim();
    !t.is_empty() && !t.starts_with('#')
}

/// Does line `l` (at `ind`) hold the mapping key `key`? Returns the rest after the colon.
fn key_rest<'a>(l: &'a str, ind: usize, key: &str) -> Option<&'a str> {
    if indent_of(l) != ind {
        return None;
    }
    let t = &l[ind..];
    for candidate in [key.to_string(), format!("\"{key}\""), format!("'{key}'")] {
        if let Some(rest) = t.strip_prefix(&candidate)
            && let Some(rest) = rest.trim_start_matches(' ').strip_prefix(':')
            && (rest.is_empty() || rest.starts_with([' ', '\n', '\r']))
        {
            return Some(rest);
        }
    }
    None
}

fn set_value(text: &str, path: &str, value: &str) -> Result<String, String> {
    if path.contains('[') {
        return Err(format!("{path}: list indexes in Helm value paths are not supported"));
    }
    let lines: Vec<String> = text.split_inclusive('\n').map(String::from).collect();
    // A literal dotted key at the top first, then the nested path.
    let mut attempts = vec![vec![path]];
    if path.contains('.') {
        attempts.push(path.split('.').collect());
    }
    for keys in &attempts {
        if let Some(out) = replace_at(&lines, keys, value)? {
            return Ok(out);
        }
    }
    insert_at(&lines, &path.split('.').collect::<Vec<_>>(), value)
}

/// The line range `[from, to)` of the children of the mapping key at line `at` (indent `ind`), and their indent.
fn children(lines: &[String], at: usize, ind: usize) -> (usize, usize, Option<usize>) {
    let from = at + 1;
    let mut to = from;
    let mut child = None;
    for (i, l) in lines.iter().enumerate().skip(from) {
        if !is_content(l) {
            continue;
        }
        let li = indent_of(l);
        if li <= ind {
            break;
        }
        child.get_or_insert(li);
        to = i + 1;
    }
    (from, to, child)
}

/// Replace the scalar at `keys`; `None` when the path is not there.
fn replace_at(lines: &[String], keys: &[&str], value: &str) -> Result<Option<String>, String> {
    let (mut from, mut to, mut ind) = (0, lines.len(), 0);
    for (depth, key) in keys.iter().enumerate() {
        let Some(at) = (from..to).find(|&i| key_rest(&lines[i], ind, key).is_some()) else { return Ok(None) };
        let rest = key_rest(&lines[at], ind, key).unwrap_or_default();
        if depth == keys.len() - 1 {
            let body = rest.trim_end_matches(['\n', '\r']);
            let value_text = body.trim();
            if value_text.is_empty() || value_text.starts_with(['|', '>', '&', '*', '{', '[']) {
                return Err(format!("{}: not a plain scalar value", keys.join(".")));
            }
            // Keep a trailing comment: ` #` outside quotes ends the value.
            let comment = find_comment(body).map(|c| &body[c..]).unwrap_or("");
            let eol = &rest[body.len()..];
            let key_part = &lines[at][..lines[at].len() - rest.len()];
            let mut out: String = lines[..at].concat();
            let sep = if comment.is_empty() { "" } else { " " };
            out.push_str(&format!(
                "{key_part} {}{sep}{}{}",
                scalar(value),
                comment.trim_start(),
                if eol.is_empty() { "\n" } else { eol }
            ));
            out.push_str(&lines[at + 1..].concat());
            return Ok(Some(out));
        }
        let (f, t, child) = children(lines, at, ind);
        let Some(child) = child else { return Ok(None) };
        (from, to, ind) = (f, t, child);
    }
    Ok(None)
}

/// Where a ` #` comment starts in a value's text (outside quotes).
fn find_comment(body: &str) -> Option<usize> {
    let mut quote = None;
    let bytes = body.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match (quote, b) {
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), c) if c == q => quote = None,
            (None, b'#') if i > 0 && bytes[i - 1] == b' ' => return Some(i - 1),
            _ => {}
        }
    }
    None
}

/// Add `keys` (the deepest existing prefix kept) with `value`.
fn insert_at(lines: &[String], keys: &[&str], value: &str) -> Result<String, String> {
    let (mut from, mut to, mut ind) = (0, lines.len(), 0);
    let mut depth = 0;
    let mut insert = lines.len();
    while depth < keys.len() {
        let Some(at) = (from..to).find(|&i| key_rest(&lines[i], ind, keys[depth]).is_some()) else { break };
        let rest = key_rest(&lines[at], ind, keys[depth]).unwrap_or_default();
        if depth == keys.len() - 1 || !rest.trim().is_empty() && !rest.trim_start().starts_with('#') {
            return Err(format!("{}: {} is not a mapping", keys.join("."), keys[..=depth].join(".")));
        }
        let (f, t, child) = children(lines, at, ind);
        insert = t.max(at + 1);
        ind = child.unwrap_or(ind + 2);
        (from, to) = (f, t);
        depth += 1;
    }
    if depth == 0 {
        insert = lines.len();
    }
    let mut add = String::new();
    for (i, k) in keys[depth..].iter().enumerate() {
        let pad = " ".repeat(ind + 2 * i);
        if depth + i == keys.len() - 1 {
            add.push_str(&format!("{pad}{}: {}\n", scalar(k), scalar(value)));
        } else {
            add.push_str(&format!("{pad}{}:\n", scalar(k)));
        }
    }
    Ok(format!("{}{add}{}", lines[..insert].concat(), lines[insert..].concat()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_files_merge_parameters_and_images() {
        let new = Overrides::Helm(vec![
            HelmParam { name: "image.name".into(), value: "127.0.0.1:5000/team/web".into(), force_string: true },
            HelmParam { name: "image.tag".into(), value: "1.10".into(), force_string: true },
        ]);
        let out = override_file(None, &new).unwrap();
        assert_eq!(
            out,
            "helm:\n  parameters:\n  - name: image.name\n    value: 127.0.0.1:5000/team/web\n    forcestring: true\n  - name: image.tag\n    value: \"1.10\"\n    forcestring: true\n"
        );
        let existing = "helm:\n  releaseName: keep\n  parameters:\n  - name: other\n    value: x\n  - name: image.tag\n    value: '1.0'\n    forcestring: true\ndirectory: {recurse: true}\n";
        let out = override_file(Some(existing), &new).unwrap();
        assert_eq!(
            out,
            "helm:\n  parameters:\n  - name: other\n    value: x\n    forcestring: false\n  - name: image.tag\n    value: \"1.10\"\n    forcestring: true\n  - name: image.name\n    value: 127.0.0.1:5000/team/web\n    forcestring: true\n  releaseName: keep\ndirectory:\n  recurse: true\n"
        );
        // Written twice: the same text (no change, no commit).
        assert_eq!(override_file(Some(&out), &new).unwrap(), out);
        let k = Overrides::Kustomize(vec!["127.0.0.1:5000/team/web:1.2.3".into()]);
        let out =
            override_file(Some("kustomize:\n  images:\n  - redis:7\n  - 127.0.0.1:5000/team/web:1.0\n"), &k).unwrap();
        assert_eq!(out, "kustomize:\n  images:\n  - redis:7\n  - 127.0.0.1:5000/team/web:1.2.3\n");
    }

    #[test]
    fn kustomization_images_keep_the_rest_of_the_file() {
        let text = "# the prod overlay\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages: # pinned by CI\n  - name: web\n    newTag: \"1.0\"\n  - name: redis\n    newTag: '7'\n\n# resources last\nresources:\n- ../base # the base\n";
        let e = ImageEntry {
            name: "web".into(),
            new_name: Some("127.0.0.1:5000/team/web".into()),
            new_tag: Some("1.10".into()),
            digest: None,
        };
        let out = kustomization_images(text, std::slice::from_ref(&e)).unwrap();
        assert_eq!(
            out,
            "# the prod overlay\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n  - name: web\n    newName: 127.0.0.1:5000/team/web\n    newTag: \"1.10\"\n  - name: redis\n    newTag: \"7\"\n\n# resources last\nresources:\n- ../base # the base\n"
        );
        assert_eq!(kustomization_images(&out, std::slice::from_ref(&e)).unwrap(), out, "idempotent");
        // No images yet: appended at the end; flow style replaced.
        let out = kustomization_images("resources: [a.yaml]", std::slice::from_ref(&e)).unwrap();
        assert_eq!(
            out,
            "resources: [a.yaml]\nimages:\n- name: web\n  newName: 127.0.0.1:5000/team/web\n  newTag: \"1.10\"\n"
        );
        let out = kustomization_images("images: []\nresources: [a.yaml]\n", &[e]).unwrap();
        assert!(out.ends_with("resources: [a.yaml]\n") && out.starts_with("images:\n- name: web\n"), "{out}");
    }

    #[test]
    fn helm_values_change_only_the_values() {
        let text = "# values\nreplicaCount: 2\nimage:\n  repository: team/web # the image\n  tag: \"1.0\"\n  pullPolicy: IfNotPresent\nworker:\n  enabled: true\n";
        let sets = vec![
            ("image.tag".to_string(), "1.10".to_string()),
            ("image.repository".to_string(), "127.0.0.1:5000/team/web".to_string()),
        ];
        let out = helm_values(Some(text), &sets).unwrap();
        assert_eq!(
            out,
            "# values\nreplicaCount: 2\nimage:\n  repository: 127.0.0.1:5000/team/web # the image\n  tag: \"1.10\"\n  pullPolicy: IfNotPresent\nworker:\n  enabled: true\n"
        );
        // Missing keys are added under their parent; a new file gets the header.
        let out = helm_values(Some(text), &[("worker.image.tag".into(), "2.0.0".into())]).unwrap();
        assert!(out.ends_with("worker:\n  enabled: true\n  image:\n    tag: 2.0.0\n"), "{out}");
        let out = helm_values(None, &sets).unwrap();
        assert_eq!(
            out,
            "# auto generated by argocd image updater\nimage:\n  tag: \"1.10\"\n  repository: 127.0.0.1:5000/team/web\n"
        );
        // A literal dotted key wins.
        let out = helm_values(Some("image.tag: \"1.0\"\n"), &[("image.tag".into(), "2".into())]).unwrap();
        assert_eq!(out, "image.tag: \"2\"\n");
        assert!(
            helm_values(Some("image: nginx\n"), &[("image.tag".into(), "2".into())])
                .unwrap_err()
                .contains("not a mapping")
        );
        assert!(helm_values(Some(text), &[("images[0].tag".into(), "2".into())]).unwrap_err().contains("list indexes"));
    }
}
