//! Argo CD `Application` files: reading them into typed [`Application`]s,
//! choosing the rendering tool in Argo CD's order, and mapping the tool
//! blocks onto [`RenderOptions`].
//!
//! Every field Argo CD defines is either read, or named in a warning when it
//! is set (`not supported yet`); keys Argo CD does not define are named in an
//! `unknown field` warning. Nothing is dropped silently.

mod destination;
mod fields;
mod kustomize_edit;
mod overrides;
mod read;
mod show;
mod spec;

pub use destination::{IN_CLUSTER_SERVER, ResolvedDestination, resolve_destination};
pub use overrides::{SHARED_OVERRIDE_FILE, app_override_file, apply_overrides};
pub use show::{AppRow, AppsFormat, write_apps};
pub use spec::*;

use std::path::{Path, PathBuf};

use fields::Loc;
use read::read_application;

use crate::error::{Error, Result};
use crate::render::{Tool, detect};
use crate::source::DirectoryOptions;
use crate::yaml::{Dialect, parse_stream};

/// The API version of Argo CD Applications.
pub const API_VERSION: &str = "argoproj.io/v1alpha1";

/// Read every Application in a file (multi-document YAML, or a `List`) or
/// in the `*.yaml|*.yml|*.json` files directly inside a directory (sorted).
/// Other kinds of documents are skipped with a warning. Names must be unique.
pub fn load(path: &Path) -> Result<Vec<Application>> {
    let files = if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| Error::io(path, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.extension().and_then(|e| e.to_str()).is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
            })
            .collect();
        files.sort();
        files
    } else {
        vec![path.to_path_buf()]
    };
    let mut apps: Vec<Application> = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).map_err(|e| Error::io(file, e))?;
        let label = file.display().to_string();
        let docs =
            parse_stream(&text, Dialect::Kubectl).map_err(|source| Error::Yaml { file: label.clone(), source })?;
        for doc in docs {
            let items = match doc.value.get("kind").and_then(|k| k.as_str()) {
                Some(k) if k.ends_with("List") => {
                    doc.value.get("items").and_then(|i| i.as_array()).cloned().unwrap_or_default()
                }
                _ if doc.value.is_null() => continue,
                _ => vec![doc.value],
            };
            for item in items {
                let loc = Loc::new(&label, doc.line);
                let (api, kind) =
                    (item.get("apiVersion").and_then(|v| v.as_str()), item.get("kind").and_then(|v| v.as_str()));
                if kind != Some("Application") || api != Some(API_VERSION) {
                    loc.warn(
                        "kind",
                        &format!(
                            "skipping a {} {} document: not an {API_VERSION} Application",
                            api.unwrap_or("?"),
                            kind.unwrap_or("?")
                        ),
                    );
                    continue;
                }
                let app = read_application(&loc, &item)?;
                if let Some(first) = apps.iter().find(|a| a.name == app.name) {
                    return Err(loc.err(
                        "metadata.name",
                        format!("duplicate Application {:?} (first at {})", app.name, first.file),
                    ));
                }
                apps.push(app);
            }
        }
    }
    if apps.is_empty() {
        return Err(Error::Source { path: path.to_path_buf(), message: format!("no {API_VERSION} Application found") });
    }
    Ok(apps)
}

/// The Application named `name`, or the only one.
pub fn select(apps: Vec<Application>, name: Option<&str>, path: &Path) -> Result<Application> {
    let names = || apps.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", ");
    match name {
        Some(n) => {
            let list = names();
            apps.into_iter().find(|a| a.name == n).ok_or_else(|| Error::Source {
                path: path.to_path_buf(),
                message: format!("no Application named {n:?} (found: {list})"),
            })
        }
        None if apps.len() == 1 => Ok(apps.into_iter().next().expect("one app")),
        None => Err(Error::Source {
            path: path.to_path_buf(),
            message: format!(
                "{} Applications found ({}); choose one with --app-name (status, diff, sync: name them, or --all)",
                apps.len(),
                names()
            ),
        }),
    }
}

/// The tool an explicit block asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExplicitTool {
    Directory,
    Kustomize,
    Helm,
    Plugin,
}

impl AppSource {
    /// The tool block that is set, if any; more than one is an error (as in Argo CD).
    pub fn explicit_tool(&self) -> std::result::Result<Option<ExplicitTool>, String> {
        let set: Vec<ExplicitTool> = [
            (self.directory.is_some(), ExplicitTool::Directory),
            (self.kustomize.is_some(), ExplicitTool::Kustomize),
            (self.helm.is_some(), ExplicitTool::Helm),
            (self.plugin.is_some(), ExplicitTool::Plugin),
        ]
        .into_iter()
        .filter_map(|(on, t)| on.then_some(t))
        .collect();
        match set.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(*one)),
            many => Err(format!("multiple tool blocks set ({many:?}); set only one")),
        }
    }

    /// The tool that renders this source: the explicit block, else what the
    /// directory contains (kustomization, Chart.yaml, *.jsonnet, plain).
    /// `None` for a config management plugin.
    pub fn tool(&self, dir: &Path) -> std::result::Result<Option<Tool>, String> {
        Ok(match self.explicit_tool()? {
            Some(ExplicitTool::Plugin) => None,
            Some(ExplicitTool::Kustomize) => Some(Tool::Kustomize),
            Some(ExplicitTool::Helm) => Some(Tool::Helm),
            // Argo CD's directory type also evaluates the *.jsonnet files it finds.
            Some(ExplicitTool::Directory) => Some(if has_jsonnet(dir) { Tool::Jsonnet } else { Tool::Directory }),
            None => Some(detect(dir)),
        })
    }

    /// The tool's display name, as `apps` shows it (`dir`: the source directory when it is at hand).
    pub fn tool_name(&self, dir: Option<&Path>) -> String {
        match (self.explicit_tool(), dir) {
            (Err(_), _) => "invalid".into(),
            (Ok(Some(ExplicitTool::Plugin)), _) => "Plugin".into(),
            (Ok(_), Some(dir)) => self.tool(dir).ok().flatten().map_or("Plugin", Tool::name).into(),
            (Ok(Some(t)), None) => format!("{t:?}"),
            (Ok(None), None) => "unknown".into(),
        }
    }

    /// `spec.source.directory` as the plain renderer's options.
    pub fn directory_options(&self) -> DirectoryOptions {
        match &self.directory {
            Some(d) => DirectoryOptions {
                recursive: d.recurse,
                include: d.include.iter().cloned().collect(),
                exclude: d.exclude.iter().cloned().collect(),
            },
            None => DirectoryOptions::default(),
        }
    }
}

fn has_jsonnet(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|rd| rd.flatten().any(|e| e.file_name().to_string_lossy().ends_with(".jsonnet")))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests;
