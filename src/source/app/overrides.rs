//! `.argocd-source.yaml` and `.argocd-source-<app>.yaml`: parameter
//! overrides kept in the source directory (Argo CD Image Updater writes the
//! second), applied as Argo CD's repo server applies them
//! (`mergeSourceParameters`):
//!
//! - both files are read from the source's directory, the shared one first,
//!   then the app's own; a missing file (or a directory of that name) is
//!   skipped;
//! - each is a JSON merge patch (RFC 7386) onto the source as it stands;
//!   the result is decoded back onto the source, so a `null` removes
//!   nothing (Go's decoder keeps a field its input lacks), lists are
//!   replaced whole and mappings merged key by key;
//! - `chart`, `path`, `repoURL` and `targetRevision` keep their values from
//!   the Application whatever the files say.
//!
//! The merged source is read again with the Application reader, so a
//! wrong type names the override file and the field.

use std::path::PathBuf;

use serde_json::{Map, Value};

use super::fields::{Fields, Loc};
use super::read::read_source;
use super::spec::AppSource;
use crate::error::{Error, Result};
use crate::source::LocalSource;
use crate::yaml::{Dialect, parse_stream};

/// The shared override file's name.
pub const SHARED_OVERRIDE_FILE: &str = ".argocd-source.yaml";

/// The app's own override file's name: `.argocd-source-<app>.yaml`.
pub fn app_override_file(app: &str) -> String {
    format!(".argocd-source-{app}.yaml")
}

/// The fields an override cannot change.
const KEPT: [&str; 4] = ["chart", "path", "repoURL", "targetRevision"];

/// `src` with the override files of `app` in `source`'s directory merged
/// onto it, and the files that were applied (none: `src` unchanged).
pub fn apply_overrides(src: &AppSource, app: &str, source: &LocalSource) -> Result<(AppSource, Vec<PathBuf>)> {
    let dir = source.dir();
    let mut merged = src.raw.clone();
    let mut applied = Vec::new();
    for name in [SHARED_OVERRIDE_FILE.to_string(), app_override_file(app)] {
        let candidate = dir.join(&name);
        match std::fs::symlink_metadata(&candidate) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io(&candidate, e)),
            Ok(_) => {}
        }
        let file = source.confine(&candidate)?;
        if file.is_dir() {
            continue;
        }
        let text = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
        let label = candidate.display().to_string();
        let docs =
            parse_stream(&text, Dialect::Kubectl).map_err(|source| Error::Yaml { file: label.clone(), source })?;
        // sigs.k8s.io/yaml reads the first document only.
        let patch = docs.into_iter().next().map(|d| d.value).unwrap_or(Value::Null);
        match &patch {
            Value::Null => {}
            Value::Object(p) => {
                let mut p = p.clone();
                canonical_keys(&mut p);
                merge_onto(&mut merged, &p)
            }
            _ => {
                return Err(Error::App {
                    file: label,
                    line: 1,
                    field: "(top level)".into(),
                    message: "an override file must be a mapping of source fields (helm, kustomize, directory, plugin)"
                        .into(),
                });
            }
        }
        applied.push(candidate);
    }
    if applied.is_empty() {
        return Ok((src.clone(), applied));
    }
    if let Value::Object(m) = &mut merged {
        for key in KEPT {
            match src.raw.get(key) {
                Some(v) => m.insert(key.to_string(), v.clone()),
                None => m.remove(key),
            };
        }
    }
    let files: Vec<String> = applied.iter().map(|p| p.display().to_string()).collect();
    let loc = Loc::new(&files.join(" + "), 1);
    let mut out = read_source(Fields::new(&loc, "", &merged)?)?;
    // The merged source keeps its form, for later merges.
    out.raw = merged;
    Ok((out, applied))
}

/// Field names of an ApplicationSource, for Go's case-insensitive decoding
/// (Image Updater writes `forcestring`).
const FIELDS: &[&str] = &[
    "repoURL",
    "targetRevision",
    "path",
    "chart",
    "ref",
    "name",
    "directory",
    "kustomize",
    "helm",
    "plugin",
    "recurse",
    "include",
    "exclude",
    "jsonnet",
    "extVars",
    "tlas",
    "libs",
    "value",
    "code",
    "namePrefix",
    "nameSuffix",
    "namespace",
    "images",
    "commonLabels",
    "commonAnnotations",
    "forceCommonLabels",
    "forceCommonAnnotations",
    "replicas",
    "count",
    "releaseName",
    "valueFiles",
    "ignoreMissingValueFiles",
    "values",
    "valuesObject",
    "parameters",
    "fileParameters",
    "skipCrds",
    "forceString",
    "env",
    "string",
    "array",
    "map",
    "version",
    "passCredentials",
    "kubeVersion",
    "apiVersions",
    "skipTests",
    "skipSchemaValidation",
    "patches",
    "components",
    "labelWithoutSelector",
];

/// Rename keys that match a field name but for case (as Go's decoder
/// matches them); user mappings (labels, values, plugin maps) are left alone.
fn canonical_keys(m: &mut Map<String, Value>) {
    let keys: Vec<String> = m.keys().cloned().collect();
    for k in keys {
        if let Some(field) = FIELDS.iter().find(|f| f.eq_ignore_ascii_case(&k) && **f != k)
            && !m.contains_key(*field)
            && let Some(v) = m.remove(&k)
        {
            m.insert(field.to_string(), v);
        }
    }
    for (k, v) in m.iter_mut() {
        if matches!(k.as_str(), "commonLabels" | "commonAnnotations" | "valuesObject" | "map") {
            continue;
        }
        match v {
            Value::Object(c) => canonical_keys(c),
            Value::Array(items) => items.iter_mut().filter_map(Value::as_object_mut).for_each(canonical_keys),
            _ => {}
        }
    }
}

/// Merge `patch` onto `target` as a merge patch followed by Go's decoding
/// onto the existing value: mappings merge, `null` keeps what is there,
/// anything else replaces.
fn merge_onto(target: &mut Value, patch: &Map<String, Value>) {
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(t) = target else { return };
    for (k, v) in patch {
        match v {
            Value::Null => {}
            Value::Object(p) => merge_onto(t.entry(k.clone()).or_insert(Value::Null), p),
            other => {
                t.insert(k.clone(), other.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    fn source(tmp: &Path) -> LocalSource {
        LocalSource::with_root(tmp, &tmp.join("app")).unwrap()
    }

    fn raw(v: Value) -> AppSource {
        let loc = Loc::new("app.yaml", 1);
        read_source(Fields::new(&loc, "spec.source", &v).unwrap()).unwrap()
    }

    #[test]
    fn merges_shared_then_app_file_and_keeps_the_location_fields() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("app");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(".argocd-source.yaml"),
            "helm:\n  releaseName: shared\n  valueFiles: [a.yaml]\n  parameters:\n  - name: x\n    value: shared\n",
        )
        .unwrap();
        std::fs::write(
            dir.join(".argocd-source-web.yaml"),
            "path: elsewhere\nrepoURL: https://evil.example/repo\ntargetRevision: v9\nchart: other\nhelm:\n  parameters:\n  - name: image.tag\n    value: 1.2.3\n    forcestring: true\n",
        )
        .unwrap();
        let src = raw(json!({"repoURL": "https://git.example/r", "path": "app", "targetRevision": "main",
            "helm": {"releaseName": "orig", "valueFiles": ["values.yaml"], "skipCrds": true}}));
        let (out, files) = apply_overrides(&src, "web", &source(tmp.path())).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(
            (out.repo_url.as_str(), out.path.as_str(), out.target_revision.as_str()),
            ("https://git.example/r", "app", "main")
        );
        assert_eq!(out.chart, None);
        let helm = out.helm.unwrap();
        assert_eq!(helm.release_name.as_deref(), Some("shared"));
        assert_eq!(helm.value_files, vec!["a.yaml"]);
        assert!(helm.skip_crds, "untouched fields stay");
        // Lists are replaced whole: the app file's parameters only.
        assert_eq!(helm.parameters.len(), 1);
        assert_eq!((helm.parameters[0].name.as_str(), helm.parameters[0].value.as_str()), ("image.tag", "1.2.3"));
        assert!(helm.parameters[0].force_string);
        // Another app sees only the shared file.
        let (other, files) = apply_overrides(&src, "api", &source(tmp.path())).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(other.helm.unwrap().parameters[0].value, "shared");
    }

    #[test]
    fn null_removes_nothing_and_mappings_merge() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("app");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(".argocd-source-web.yaml"),
            "kustomize:\n  namePrefix: null\n  commonLabels:\n    b: \"2\"\n  images: [nginx:1.27]\n",
        )
        .unwrap();
        let src = raw(json!({"repoURL": "r", "path": "app",
            "kustomize": {"namePrefix": "p-", "commonLabels": {"a": "1"}, "images": ["redis:7"]}}));
        let (out, _) = apply_overrides(&src, "web", &source(tmp.path())).unwrap();
        let k = out.kustomize.unwrap();
        assert_eq!(k.name_prefix, "p-");
        assert_eq!(k.common_labels.len(), 2);
        assert_eq!(k.images.len(), 1);
        assert_eq!(k.images[0].name, "nginx");
    }

    #[test]
    fn an_override_can_add_a_tool_block() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("app");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(".argocd-source.yaml"), "kustomize:\n  images: ['nginx=registry.example/nginx:2']\n")
            .unwrap();
        let src = raw(json!({"repoURL": "r", "path": "app"}));
        let (out, _) = apply_overrides(&src, "web", &source(tmp.path())).unwrap();
        assert_eq!(out.kustomize.unwrap().images[0].new_tag.as_deref(), Some("2"));
    }

    #[test]
    fn errors_name_the_override_file_and_field() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("app");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(".argocd-source-web.yaml"), "helm:\n  parameters:\n  - name: a\n    value: 1\n")
            .unwrap();
        let src = raw(json!({"repoURL": "r", "path": "app"}));
        let e = apply_overrides(&src, "web", &source(tmp.path())).unwrap_err().to_string();
        assert!(e.contains(".argocd-source-web.yaml") && e.contains("helm.parameters[0].value"), "{e}");
        std::fs::write(dir.join(".argocd-source-web.yaml"), "- a\n").unwrap();
        let e = apply_overrides(&src, "web", &source(tmp.path())).unwrap_err().to_string();
        assert!(e.contains(".argocd-source-web.yaml") && e.contains("mapping"), "{e}");
        // An empty file and a directory of that name change nothing.
        std::fs::write(dir.join(".argocd-source-web.yaml"), "").unwrap();
        std::fs::create_dir(dir.join(".argocd-source.yaml")).unwrap();
        let (out, _) = apply_overrides(&src, "web", &source(tmp.path())).unwrap();
        assert_eq!(out.helm, None);
    }

    #[test]
    fn a_symlink_out_of_the_root_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("o.yaml"), "helm: {releaseName: x}\n").unwrap();
        let dir = tmp.path().join("app");
        std::fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::symlink(outside.path().join("o.yaml"), dir.join(".argocd-source.yaml")).unwrap();
        let src = raw(json!({"repoURL": "r", "path": "app"}));
        assert!(matches!(apply_overrides(&src, "web", &source(tmp.path())), Err(Error::PathEscape { .. })));
    }
}
