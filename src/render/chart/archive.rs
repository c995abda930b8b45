//! Packaged subcharts (`charts/*.tgz`), read as helm's `LoadArchive` does:
//! a gzipped tar whose entries sit under one top directory (stripped), no
//! `.helmignore` applied, paths with `..` refused, nested `charts/`
//! (directories inside the archive or further `.tgz` files) loaded the
//! same way. Everything is read into memory; limits bound the archive's
//! decompressed size, its number of entries and its nesting.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::load::{Chart, TemplateFile, parse_metadata};
use super::values::{Values, load_values_yaml};
use crate::error::{Error, Result};

/// Largest decompressed size of one archive (helm's default is 100 MiB).
const MAX_DECOMPRESSED: u64 = 100 << 20;
/// Most entries of one archive.
const MAX_ENTRIES: usize = 100_000;
/// Deepest nesting of archives inside archives.
const MAX_NESTING: usize = 16;

fn err(path: &Path, message: impl Into<String>) -> Error {
    Error::Chart { path: path.to_path_buf(), message: message.into() }
}

/// Load the packaged chart in `bytes` (`path` names it in messages and
/// origins; `display` is its path for messages relative to the root).
pub fn load_archive(bytes: &[u8], path: &Path, display: &str) -> Result<Chart> {
    load_nested(bytes, path, display, 0)
}

/// The files of a chart archive (paths relative to the chart), with the
/// loader's checks and limits.
pub fn archive_files(bytes: &[u8], path: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    untar(bytes, path)
}

fn load_nested(bytes: &[u8], path: &Path, display: &str, depth: usize) -> Result<Chart> {
    if depth > MAX_NESTING {
        return Err(err(path, format!("packaged subcharts nest deeper than {MAX_NESTING} levels")));
    }
    let files = untar(bytes, path)?;
    build(files, path, display, depth)
}

/// The archive's files, the top directory stripped.
fn untar(bytes: &[u8], path: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let gz = flate2::read::GzDecoder::new(bytes);
    let mut archive = tar::Archive::new(gz.take(MAX_DECOMPRESSED + 1));
    let mut out = Vec::new();
    let entries = archive.entries().map_err(|e| err(path, format!("not a chart archive (gzipped tar): {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| err(path, format!("reading the archive: {e}")))?;
        if out.len() >= MAX_ENTRIES {
            return Err(err(path, format!("the archive has more than {MAX_ENTRIES} entries")));
        }
        let kind = entry.header().entry_type();
        if kind.is_dir() || kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            continue;
        }
        let name = entry.path().map_err(|e| err(path, format!("reading the archive: {e}")))?;
        let name = name.to_string_lossy().replace('\\', "/");
        if !kind.is_file() {
            return Err(err(path, format!("{name}: only regular files may be in a chart archive")));
        }
        let rel = match name.split_once('/') {
            Some((_, rest)) => rest.to_string(),
            None => continue,
        };
        if rel.split('/').any(|p| p == "..") || rel.starts_with('/') {
            return Err(err(path, format!("chart illegally contains content outside the base directory: {name:?}")));
        }
        let mut data = Vec::new();
        entry.read_to_end(&mut data).map_err(|e| err(path, format!("reading {name}: {e}")))?;
        out.push((rel, data));
    }
    Ok(out)
}

fn text(path: &Path, name: &str, data: Vec<u8>) -> Result<String> {
    String::from_utf8(data).map_err(|_| err(path, format!("{name}: not UTF-8 text")))
}

/// A chart from its files (paths relative to the chart).
fn build(files: Vec<(String, Vec<u8>)>, path: &Path, display: &str, depth: usize) -> Result<Chart> {
    let mut meta = None;
    let mut values = Values::new();
    let mut schema = None;
    let mut templates = Vec::new();
    let mut rest = Vec::new();
    let mut sub_dirs: std::collections::BTreeMap<String, Vec<(String, Vec<u8>)>> = Default::default();
    let mut sub_archives = Vec::new();
    for (rel, data) in files {
        match rel.as_str() {
            "Chart.yaml" => {
                let t = text(path, &rel, data)?;
                meta = Some(parse_metadata(&t).map_err(|m| err(path, format!("Chart.yaml: {m}")))?);
            }
            "values.yaml" => {
                let t = text(path, &rel, data)?;
                values = load_values_yaml(&t).map_err(|e| err(path, format!("cannot load values.yaml: {e}")))?;
            }
            "values.schema.json" => {
                let v: serde_json::Value = serde_json::from_slice(&data).map_err(|e| {
                    err(path, format!("values.schema.json: invalid JSON schema: line {}: {e}", e.line()))
                })?;
                schema = Some(Arc::new(v));
            }
            _ if rel.starts_with("templates/") => {
                let t = text(path, &rel, data)?;
                templates.push(TemplateFile { rel: rel["templates/".len()..].to_string(), text: t });
            }
            _ if rel.starts_with("charts/") => {
                let inner = &rel["charts/".len()..];
                match inner.split_once('/') {
                    Some((dir, file)) => sub_dirs.entry(dir.to_string()).or_default().push((file.to_string(), data)),
                    None if inner.ends_with(".tgz") || inner.ends_with(".tar.gz") => {
                        sub_archives.push((inner.to_string(), data))
                    }
                    None => {}
                }
            }
            _ => rest.push((rel, data)),
        }
    }
    let meta = meta.ok_or_else(|| err(path, "Chart.yaml file is missing"))?;
    let mut deps = Vec::new();
    for (dir, files) in sub_dirs {
        if files.iter().any(|(n, _)| n == "Chart.yaml") {
            deps.push(build(files, path, &format!("{display}/charts/{dir}"), depth)?);
        }
    }
    for (name, data) in sub_archives {
        deps.push(load_nested(&data, path, &format!("{display}/charts/{name}"), depth + 1)?);
    }
    templates.sort_by(|a, b| a.rel.cmp(&b.rel));
    rest.sort_by(|a, b| a.0.cmp(&b.0));
    let mut meta = meta;
    super::load::apply_requirements(&mut meta, &mut rest).map_err(|m| err(path, m))?;
    Ok(Chart {
        meta,
        dir: PathBuf::from(path),
        display: display.to_string(),
        values,
        schema,
        templates: Arc::new(templates),
        files: Arc::new(rest),
        deps,
        packaged: Vec::new(),
        fetch_failures: Vec::new(),
    })
}
