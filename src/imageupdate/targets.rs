//! The files a write-back changes (Image Updater's `marshalParamsOverride`,
//! `writeKustomization` and its Helm values writer): which file each
//! target means, and its new text from the current one. Paths are
//! repository-relative; reading goes through a callback so the caller
//! decides which commit the files come from.

use serde_json::Value;

use super::annotations::{ImageSpec, Target, UpdateConfig};
use super::reference::ImageRef;
use super::write::{self, HelmParam, ImageEntry, Overrides};
use crate::error::{Error, Result};
use crate::render::Tool;
use crate::source::app::{self, AppSource, Application, KustomizeImage};

/// One file's change (repository-relative path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEdit {
    pub path: String,
    pub before: Option<String>,
    pub after: String,
}

fn app_err(a: &Application, message: impl Into<String>) -> Error {
    Error::Source { path: std::path::PathBuf::from(&a.file), message: message.into() }
}

/// `dir/rest` without `./` and `..` where it can be resolved; `/x` from the root.
fn repo_path(dir: &str, rest: &str) -> Result<String> {
    let joined = if let Some(abs) = rest.strip_prefix('/') { abs.to_string() } else { format!("{dir}/{rest}") };
    let mut parts: Vec<&str> = Vec::new();
    for c in joined.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(Error::Usage(format!("{rest}: leaves the repository")));
                }
            }
            c => parts.push(c),
        }
    }
    Ok(parts.join("/"))
}

/// The files the write-back changes, read through `read` (repository-relative paths).
pub fn edits(
    a: &Application,
    source: &AppSource,
    config: &UpdateConfig,
    tool: Tool,
    updates: &[(ImageSpec, ImageRef)],
    read: impl Fn(&str) -> Result<Option<String>>,
) -> Result<Vec<FileEdit>> {
    let fail = |path: &str, e: String| app_err(a, format!("{path}: {e}"));
    match &config.write_back.target {
        Target::SourceOverride(file) => {
            let path = match file {
                Some(f) => repo_path("", f)?,
                None => repo_path(&source.path, &app::app_override_file(&a.name))?,
            };
            let before = read(&path)?;
            let overrides = if tool == Tool::Helm {
                let mut params: Vec<HelmParam> = source
                    .helm
                    .as_ref()
                    .map(|h| {
                        h.parameters
                            .iter()
                            .map(|p| HelmParam {
                                name: p.name.clone(),
                                value: p.value.clone(),
                                force_string: p.force_string,
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                for (spec, new) in updates {
                    for p in helm_params(spec, new) {
                        match params.iter_mut().find(|q| q.name == p.name) {
                            Some(q) => *q = p,
                            None => params.push(p),
                        }
                    }
                }
                Overrides::Helm(params)
            } else {
                let mut images: Vec<String> = source
                    .kustomize
                    .as_ref()
                    .map(|k| k.images.iter().map(kustomize_string).collect())
                    .unwrap_or_default();
                for (spec, new) in updates {
                    write::merge_kustomize_image(&mut images, &kustomize_param(spec, new));
                }
                Overrides::Kustomize(images)
            };
            let after = write::override_file(before.as_deref(), &overrides).map_err(|e| fail(&path, e))?;
            Ok(vec![FileEdit { path, before, after }])
        }
        Target::Kustomization(dir) => {
            let dir = repo_path(&source.path, dir.as_deref().unwrap_or("."))?;
            let mut found = None;
            for name in ["kustomization.yaml", "kustomization.yml", "Kustomization"] {
                let p = repo_path(&dir, name)?;
                if let Some(text) = read(&p)? {
                    found = Some((p, text));
                    break;
                }
            }
            let (path, text) = found.ok_or_else(|| app_err(a, format!("no kustomization in {dir:?}")))?;
            let mut images: Vec<String> =
                source.kustomize.as_ref().map(|k| k.images.iter().map(kustomize_string).collect()).unwrap_or_default();
            for (spec, new) in updates {
                write::merge_kustomize_image(&mut images, &kustomize_param(spec, new));
            }
            let entries: Vec<ImageEntry> = images.iter().map(|i| image_entry(i)).collect();
            let after = write::kustomization_images(&text, &entries).map_err(|e| fail(&path, e))?;
            Ok(vec![FileEdit { path, before: Some(text), after }])
        }
        Target::HelmValues(file) => {
            let path = repo_path(&source.path, file.as_deref().unwrap_or("values.yaml"))?;
            let before = read(&path)?;
            let mut sets = Vec::new();
            for (spec, new) in updates {
                let h = &spec.helm;
                if let Some(key) = &h.spec {
                    sets.push((key.clone(), new.to_string()));
                    continue;
                }
                let (Some(name_key), Some(tag_key)) = (&h.name, &h.tag) else {
                    return Err(app_err(
                        a,
                        format!(
                            "image {}: the helmvalues write-back target needs the {}.helm.image-name and .helm.image-tag annotations (or .helm.image-spec)",
                            spec.label(),
                            spec.label().replace('/', "_")
                        ),
                    ));
                };
                let mut name = new.full_name();
                // Keep the short form when the file has it (as Image Updater does).
                if let Some(old) = before.as_deref().and_then(|t| current_value(t, name_key))
                    && !has_registry(&old)
                    && has_registry(&name)
                {
                    name = name.split_once('/').map_or(name.clone(), |(_, rest)| rest.to_string());
                }
                sets.push((name_key.clone(), name));
                sets.push((tag_key.clone(), new.tag_with_digest()));
            }
            let after = write::helm_values(before.as_deref(), &sets).map_err(|e| fail(&path, e))?;
            Ok(vec![FileEdit { path, before, after }])
        }
    }
}

fn has_registry(name: &str) -> bool {
    name.split_once('/').is_some_and(|(first, _)| first.contains('.'))
}

/// A scalar's value in a values file at a dotted path (for the short-form rule).
fn current_value(text: &str, path: &str) -> Option<String> {
    let doc = crate::yaml::parse_one(text, crate::yaml::Dialect::Kubectl).ok()?;
    if let Some(v) = doc.get(path).and_then(Value::as_str) {
        return Some(v.to_string());
    }
    path.split('.').try_fold(&doc, |v, k| v.get(k))?.as_str().map(String::from)
}

/// The Helm parameters of one image (`SetHelmImage`).
fn helm_params(spec: &ImageSpec, new: &ImageRef) -> Vec<HelmParam> {
    let p = |name: &str, value: String| HelmParam { name: name.to_string(), value, force_string: true };
    if let Some(key) = &spec.helm.spec {
        return vec![p(key, new.to_string())];
    }
    let name = spec.helm.name.as_deref().unwrap_or("image.name");
    let tag = spec.helm.tag.as_deref().unwrap_or("image.tag");
    let mut out = vec![p(name, new.full_name())];
    let t = new.tag_with_digest();
    if !t.is_empty() {
        out.push(p(tag, t));
    }
    out
}

/// An Application's kustomize image back in `kustomize edit set image` form.
fn kustomize_string(i: &KustomizeImage) -> String {
    let mut s = i.name.clone();
    if let Some(n) = &i.new_name {
        s = format!("{s}={n}");
    }
    if let Some(t) = &i.new_tag {
        s = format!("{s}:{t}");
    }
    if let Some(d) = &i.digest {
        s = format!("{s}@{d}");
    }
    s
}

/// `[kustomize-name=]image:tag[@digest]` (`SetKustomizeImage`'s parameter).
fn kustomize_param(spec: &ImageSpec, new: &ImageRef) -> String {
    match &spec.kustomize_name {
        Some(k) => format!("{}={new}", k.full_name()),
        None => new.to_string(),
    }
}

/// A kustomization `images` entry from `[name=]image[:tag][@digest]` (`parseImageOverride`).
fn image_entry(s: &str) -> ImageEntry {
    let (alias, rest) = match s.split_once('=') {
        Some((a, r)) if !a.contains(':') => (Some(a.to_string()), r),
        _ => (None, s),
    };
    let parsed = ImageRef::parse(rest).unwrap_or(ImageRef {
        registry: String::new(),
        name: rest.to_string(),
        tag: None,
        digest: None,
    });
    match alias {
        Some(a) => {
            ImageEntry { name: a, new_name: Some(parsed.full_name()), new_tag: parsed.tag, digest: parsed.digest }
        }
        None => ImageEntry { name: parsed.full_name(), new_name: None, new_tag: parsed.tag, digest: parsed.digest },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_paths_and_kustomize_entries() {
        assert_eq!(repo_path("apps/web", ".argocd-source-web.yaml").unwrap(), "apps/web/.argocd-source-web.yaml");
        assert_eq!(repo_path("apps/web", "../base").unwrap(), "apps/base");
        assert_eq!(repo_path("apps/web", "/env/values.yaml").unwrap(), "env/values.yaml");
        assert!(repo_path("", "../x").is_err());
        assert_eq!(
            image_entry("web=127.0.0.1:5000/team/web:1.1"),
            ImageEntry {
                name: "web".into(),
                new_name: Some("127.0.0.1:5000/team/web".into()),
                new_tag: Some("1.1".into()),
                digest: None
            }
        );
        assert_eq!(image_entry("nginx:1.27").name, "nginx");
        let mut images = vec!["redis:7".to_string(), "web=old/web:1".to_string()];
        write::merge_kustomize_image(&mut images, "web=127.0.0.1:5000/team/web:1.1");
        write::merge_kustomize_image(&mut images, "nginx:1.27");
        assert_eq!(images, vec!["redis:7", "web=127.0.0.1:5000/team/web:1.1", "nginx:1.27"]);
    }
}
