//! An Application's `helm` block onto the chart renderer's options: value
//! files (from the repository, a reference source, or the fetched chart),
//! inline values and parameters, as Argo CD passes them to `helm template`.

use std::path::{Path, PathBuf};

use super::LocalSource;
use super::app::{self, Application};
use super::chartrepo::FetchedChart;
use super::git::Cache;
use super::resolve::envsubst;
use crate::error::{Error, Result};
use crate::render::RenderOptions;
use crate::render::chart::strvals::ValueKind;

/// A Helm source's settings onto the chart renderer's options, in Argo CD's
/// order: value files, then the inline values, then parameters (each before
/// the flags' own, so flags still win). The release name defaults to the
/// Application's name and the release namespace to its destination, as in
/// Argo CD. Value files and `fileParameters` are confined to the repository
/// (`$ref/...` to the checkout of that reference source); for a chart from
/// a repository (`archive`) they are files inside the chart, as Argo CD
/// reads them from the chart it unpacked.
pub(super) fn apply_helm(
    options: &mut RenderOptions,
    spec: &app::HelmSpec,
    src: &LocalSource,
    archive: Option<&FetchedChart>,
    app: &Application,
    refs: &std::collections::BTreeMap<String, PathBuf>,
    cache: &Cache,
) -> Result<()> {
    let env = options.build.argocd_vars();
    let chart = &mut options.chart;
    chart.skip_crds |= spec.skip_crds;
    if chart.release_name.is_none() {
        chart.release_name = Some(spec.release_name.clone().unwrap_or_else(|| app.name.clone()));
    }
    if chart.namespace.is_none() {
        chart.namespace =
            spec.namespace.clone().or_else(|| app.destination.namespace.clone()).filter(|n| !n.is_empty());
    }
    let mut files = Vec::new();
    for raw in &spec.value_files {
        // `$ref/path` names a reference source; build variables are substituted in the rest.
        let reference =
            raw.strip_prefix('$').map(|r| r.split_once('/').unwrap_or((r, ""))).filter(|(n, _)| refs.contains_key(*n));
        let file = match reference {
            Some((name, rest)) => format!("${name}/{}", envsubst(rest, &env)),
            None => envsubst(raw, &env),
        };
        if file.contains("://") {
            return Err(Error::Usage(format!("value file {file:?}: only files in a repository are supported")));
        }
        let found = match reference.map(|(name, rest)| (name, envsubst(rest, &env))) {
            Some((name, rest)) => {
                let root = refs
                    .get(name)
                    .ok_or_else(|| Error::Usage(format!("value file {file:?}: no source has ref {name:?}")))?;
                LocalSource::with_root(root, root)?.confine(&root.join(rest))
            }
            None => match archive {
                // A chart from a repository: the file inside the chart.
                Some(chart) => archive_file(cache, chart, &file),
                None => src.confine(Path::new(&file)),
            },
        };
        match found {
            Ok(path) => files.push(path),
            Err(Error::Io { .. }) if spec.ignore_missing_value_files => {
                tracing::info!("skipping missing value file {file}");
            }
            Err(Error::Io { source, .. }) => return Err(Error::Usage(format!("value file {file:?}: {source}"))),
            Err(e) => return Err(e),
        }
    }
    if let Some(values) = spec.inline_values().map_err(Error::Usage)? {
        files.push(write_inline_values(cache, &values)?);
    }
    let args = spec.set_args();
    // Each parameter must parse on its own, so that an error names it.
    for (arg, kind) in
        args.set.iter().map(|a| (a, ValueKind::Typed)).chain(args.set_string.iter().map(|a| (a, ValueKind::String)))
    {
        let name = arg.split_once('=').map_or(arg.as_str(), |(n, _)| n);
        let shown: String = name.chars().take(60).collect();
        crate::render::chart::strvals::parse_into(arg, &mut serde_json::Map::new(), kind)
            .map_err(|e| Error::Usage(format!("parameters: {shown:?}: {e}")))?;
    }
    let mut set_file = Vec::new();
    for arg in &args.set_file {
        let (name, path) = arg.split_once('=').unwrap_or((arg, ""));
        let found = match archive {
            Some(chart) => archive_file(cache, chart, path)?,
            None => src.confine(Path::new(path))?,
        };
        set_file.push(format!("{name}={}", found.display()));
    }
    let v = &mut chart.values;
    let subst = |list: Vec<String>| list.into_iter().map(|a| envsubst(&a, &env)).collect::<Vec<_>>();
    v.files.splice(0..0, files);
    v.set.splice(0..0, subst(args.set));
    v.set_string.splice(0..0, subst(args.set_string));
    v.set_file.splice(0..0, set_file);
    Ok(())
}

/// `helm.values`/`valuesObject` as a values file (Argo CD writes a temporary
/// one too), content-addressed under the cache directory.
fn write_inline_values(cache: &Cache, values: &serde_json::Value) -> Result<PathBuf> {
    let text = serde_json::to_string_pretty(values).map_err(|e| Error::Usage(e.to_string()))?;
    write_values_file(cache, text.as_bytes(), "json")
}

/// The file `rel` of a chart archive (a value file or a file parameter of
/// an Application's chart source: Argo CD reads them from the unpacked
/// chart), written to the cache's values directory.
fn archive_file(cache: &Cache, chart: &FetchedChart, rel: &str) -> Result<PathBuf> {
    let bytes = chart.bytes()?;
    let files = crate::render::chart::archive::archive_files(&bytes, &chart.path)?;
    let rel = crate::source::lexical_normalize(Path::new(rel.trim_start_matches("./")));
    let wanted = rel.to_string_lossy();
    let (_, data) = files.iter().find(|(name, _)| *name == wanted).ok_or_else(|| Error::Io {
        path: PathBuf::from(format!("{}-{}.tgz:{wanted}", chart.name, chart.version)),
        source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file in the chart"),
    })?;
    let ext = rel.extension().map_or("yaml".into(), |e| e.to_string_lossy().into_owned());
    write_values_file(cache, data, &ext)
}

/// `bytes` as a private, content-addressed file under the cache's `values/`.
fn write_values_file(cache: &Cache, bytes: &[u8], ext: &str) -> Result<PathBuf> {
    use sha2::Digest;
    let text = bytes;
    let name: String = sha2::Sha256::digest(text).iter().take(16).map(|b| format!("{b:02x}")).collect();
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let dir = cache.root().join("values");
    // Inline values may hold secrets: only the user may read them.
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir).map_err(|e| Error::io(&dir, e))?;
    let path = dir.join(format!("{name}.{ext}"));
    if !path.is_file() {
        let tmp = dir.join(format!(".tmp-{name}-{}", std::process::id()));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| Error::io(&tmp, e))?;
        f.write_all(text).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
    }
    Ok(path)
}
