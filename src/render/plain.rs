//! Plain manifest directories (and single files): every `*.yaml`, `*.yml`
//! and `*.json` file decoded into objects, files read and parsed in
//! parallel, results kept in file order.

use std::path::PathBuf;
use std::thread;

use super::decode::decode_manifests;
use super::limits::Budget;
use crate::error::{Error, Result};
use crate::model::Object;
use crate::source::{DirectoryOptions, LocalSource, list_manifest_files};
use crate::yaml::Dialect;

/// Render a plain directory or file source.
pub fn render_plain(src: &LocalSource, opts: &DirectoryOptions, budget: &Budget) -> Result<Vec<Object>> {
    let files = list_manifest_files(src, opts)?;
    let results = decode_files(src, &files, budget);
    let mut out = Vec::new();
    for r in results {
        out.extend(r?);
    }
    Ok(out)
}

fn decode_file(src: &LocalSource, path: &PathBuf, budget: &Budget) -> Result<Vec<Object>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(src.display_path(path), e))?;
    decode_manifests(&text, &src.display_path(path), Dialect::Kubectl, budget)
}

/// Decode files on all cores; results in the order of `files`.
fn decode_files(src: &LocalSource, files: &[PathBuf], budget: &Budget) -> Vec<Result<Vec<Object>>> {
    let workers = thread::available_parallelism().map_or(1, |n| n.get()).min(files.len().max(1));
    if workers <= 1 || files.len() < 4 {
        return files.iter().map(|f| decode_file(src, f, budget)).collect();
    }
    let chunk = files.len().div_ceil(workers);
    thread::scope(|s| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(|f| decode_file(src, f, budget)).collect::<Vec<_>>()))
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("decode worker panicked")).collect()
    })
}
