//! Reading an Application document into [`Application`], field by field
//! (see `fields`): every Argo CD field is read or named in a warning.

use serde_json::Value;

use super::fields::{Fields, Loc};
use super::spec::*;
use crate::error::Result;

/// Read one Application document (apiVersion and kind already checked).
pub(crate) fn read_application(loc: &Loc, doc: &Value) -> Result<Application> {
    let mut top = Fields::new(loc, "", doc)?;
    top.accept("apiVersion");
    top.accept("kind");
    top.accept("status");
    top.accept("operation");
    let mut meta = top.object("metadata")?.ok_or_else(|| loc.err("metadata.name", "missing"))?;
    let name = meta.string("name")?.filter(|n| !n.is_empty()).ok_or_else(|| loc.err("metadata.name", "missing"))?;
    // Argo CD accepts only valid object names; the name reaches plugins
    // (`ARGOCD_APP_NAME`) and release names, so it is checked first.
    if !crate::model::is_dns1123_subdomain(&name) {
        return Err(loc.err(
            "metadata.name",
            "must be a valid object name (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters)",
        ));
    }
    let namespace = meta.string("namespace")?;
    if let Some(ns) = namespace.as_deref().filter(|ns| !crate::model::is_dns1123_label(ns)) {
        return Err(loc.err("metadata.namespace", format!("{ns:?} is not a valid namespace name")));
    }
    // Annotations other tools read (Image Updater): strings; anything else is named and left out.
    let annotations = match meta.get("annotations") {
        Some(Value::Object(m)) => m
            .iter()
            .filter_map(|(k, v)| match v {
                Value::String(s) => Some((k.clone(), s.clone())),
                _ => {
                    loc.warn(&format!("metadata.annotations.{k}"), "not a string (quote it); ignored");
                    None
                }
            })
            .collect(),
        Some(_) => return Err(loc.err("metadata.annotations", "expected a mapping")),
        None => Default::default(),
    };
    for k in ["labels", "finalizers", "uid", "resourceVersion", "generation", "creationTimestamp"] {
        meta.accept(k);
    }
    meta.accept("managedFields");
    meta.finish();
    let mut spec = top.object("spec")?.ok_or_else(|| loc.err("spec", "missing"))?;
    let project = spec.string("project")?.unwrap_or_else(|| "default".into());
    let source = spec.object("source")?.map(read_source).transpose()?;
    let sources = spec.objects("sources", read_source)?;
    if source.is_none() && sources.is_empty() {
        return Err(loc.err("spec.source", "missing (set spec.source or spec.sources)"));
    }
    let destination = match spec.object("destination")? {
        Some(mut d) => {
            let dest =
                Destination { server: d.string("server")?, name: d.string("name")?, namespace: d.string("namespace")? };
            d.finish();
            if let Some(ns) =
                dest.namespace.as_deref().filter(|ns| !ns.is_empty() && !crate::model::is_dns1123_label(ns))
            {
                return Err(loc.err("spec.destination.namespace", format!("{ns:?} is not a valid namespace name")));
            }
            if dest.server.is_some() && dest.name.is_some() {
                return Err(loc.err("spec.destination", "set either name or server, not both"));
            }
            dest
        }
        None => return Err(loc.err("spec.destination", "missing")),
    };
    let sync_policy = spec.object("syncPolicy")?.map(read_sync_policy).transpose()?;
    let ignore_differences = spec.objects("ignoreDifferences", |mut f| {
        let d = IgnoreDifference {
            group: f.string("group")?.unwrap_or_default(),
            kind: f.string("kind")?.ok_or_else(|| f.loc().err(&f.path_of("kind"), "missing"))?,
            name: f.string("name")?,
            namespace: f.string("namespace")?,
            json_pointers: f.strings("jsonPointers")?,
            jq_path_expressions: f.strings("jqPathExpressions")?,
            managed_fields_managers: f.strings("managedFieldsManagers")?,
        };
        f.finish();
        Ok(d)
    })?;
    let revision_history_limit = spec.int("revisionHistoryLimit")?;
    spec.unsupported("info");
    spec.unsupported("sourceHydrator");
    spec.finish();
    top.finish();
    Ok(Application {
        name,
        namespace,
        project,
        source,
        sources,
        destination,
        sync_policy,
        ignore_differences,
        revision_history_limit,
        annotations,
        file: format!("{}:{}", loc.file, loc.line),
        warnings: loc.warnings.borrow().clone(),
    })
}

pub(crate) fn read_source(mut f: Fields<'_>) -> Result<AppSource> {
    let src = AppSource {
        raw: f.raw(),
        repo_url: f.string("repoURL")?.unwrap_or_default(),
        target_revision: f.string("targetRevision")?.filter(|r| !r.is_empty()).unwrap_or_else(|| "HEAD".into()),
        path: f.string("path")?.unwrap_or_default(),
        chart: f.string("chart")?,
        reference: f.string("ref")?,
        name: f.string("name")?,
        directory: f.object("directory")?.map(read_directory).transpose()?,
        kustomize: f.object("kustomize")?.map(read_kustomize).transpose()?,
        helm: f.object("helm")?.map(read_helm).transpose()?,
        plugin: f.object("plugin")?.map(read_plugin).transpose()?,
    };
    if src.repo_url.is_empty() {
        return Err(f.loc().err(&f.path_of("repoURL"), "missing"));
    }
    f.finish();
    Ok(src)
}

fn read_var(mut f: Fields<'_>) -> Result<JsonnetVar> {
    let v = JsonnetVar {
        name: f.string("name")?.ok_or_else(|| f.loc().err(&f.path_of("name"), "missing"))?,
        value: f.string("value")?.unwrap_or_default(),
        code: f.bool("code")?.unwrap_or(false),
    };
    f.finish();
    Ok(v)
}

fn read_directory(mut f: Fields<'_>) -> Result<DirectorySpec> {
    let jsonnet = match f.object("jsonnet")? {
        Some(mut j) => {
            let spec = JsonnetSpec {
                ext_vars: j.objects("extVars", read_var)?,
                tlas: j.objects("tlas", read_var)?,
                libs: j.strings("libs")?,
            };
            j.finish();
            spec
        }
        None => JsonnetSpec::default(),
    };
    let d = DirectorySpec {
        recurse: f.bool("recurse")?.unwrap_or(false),
        include: f.string("include")?.filter(|s| !s.is_empty()),
        exclude: f.string("exclude")?.filter(|s| !s.is_empty()),
        jsonnet,
    };
    f.finish();
    Ok(d)
}

fn read_kustomize(mut f: Fields<'_>) -> Result<KustomizeSpec> {
    let replicas = f.objects("replicas", |mut r| {
        let name = r.string("name")?.ok_or_else(|| r.loc().err(&r.path_of("name"), "missing"))?;
        let count_path = r.path_of("count");
        let count = match r.get("count") {
            Some(Value::Number(n)) if n.is_i64() => n.as_i64().unwrap_or_default(),
            Some(Value::String(s)) => {
                s.parse().map_err(|_| r.loc().err(&count_path, format!("{s:?} is not an integer")))?
            }
            _ => return Err(r.loc().err(&count_path, "missing or not an integer")),
        };
        r.finish();
        Ok(KustomizeReplica { name, count })
    })?;
    let k = KustomizeSpec {
        name_prefix: f.string("namePrefix")?.unwrap_or_default(),
        name_suffix: f.string("nameSuffix")?.unwrap_or_default(),
        namespace: f.string("namespace")?.filter(|s| !s.is_empty()),
        images: {
            let field = f.path_of("images");
            let raw = f.strings("images")?;
            raw.iter()
                .enumerate()
                .map(|(i, s)| KustomizeImage::parse(s).map_err(|e| f.loc().err(&format!("{field}[{i}]"), e)))
                .collect::<Result<Vec<_>>>()?
        },
        common_labels: f.string_map("commonLabels")?,
        common_annotations: f.string_map("commonAnnotations")?,
        force_common_labels: f.bool("forceCommonLabels")?.unwrap_or(false),
        force_common_annotations: f.bool("forceCommonAnnotations")?.unwrap_or(false),
        replicas,
    };
    for key in ["version", "commonAnnotationsEnvsubst", "patches", "components", "labelWithoutSelector"] {
        f.unsupported(key);
    }
    for key in ["kubeVersion", "apiVersions", "labelIncludeTemplates", "ignoreMissingComponents"] {
        f.unsupported(key);
    }
    f.finish();
    Ok(k)
}

fn read_helm(mut f: Fields<'_>) -> Result<HelmSpec> {
    let parameters = f.objects("parameters", |mut p| {
        let v = HelmParameter {
            name: p.string("name")?.ok_or_else(|| p.loc().err(&p.path_of("name"), "missing"))?,
            value: p.string("value")?.unwrap_or_default(),
            force_string: p.bool("forceString")?.unwrap_or(false),
        };
        p.finish();
        Ok(v)
    })?;
    let file_parameters = f.objects("fileParameters", |mut p| {
        let v = HelmFileParameter {
            name: p.string("name")?.ok_or_else(|| p.loc().err(&p.path_of("name"), "missing"))?,
            path: p.string("path")?.ok_or_else(|| p.loc().err(&p.path_of("path"), "missing"))?,
        };
        p.finish();
        Ok(v)
    })?;
    let values_object = match f.get("valuesObject") {
        None => None,
        Some(v @ Value::Object(_)) => Some(v.clone()),
        Some(_) => return Err(f.loc().err(&f.path_of("valuesObject"), "expected a mapping")),
    };
    let h = HelmSpec {
        release_name: f.string("releaseName")?.filter(|s| !s.is_empty()),
        value_files: f.strings("valueFiles")?,
        ignore_missing_value_files: f.bool("ignoreMissingValueFiles")?.unwrap_or(false),
        values: f.string("values")?,
        values_object,
        parameters,
        file_parameters,
        skip_crds: f.bool("skipCrds")?.unwrap_or(false),
        namespace: f.string("namespace")?.filter(|s| !s.is_empty()),
    };
    for key in ["version", "passCredentials", "kubeVersion", "apiVersions", "skipTests", "skipSchemaValidation"] {
        f.unsupported(key);
    }
    f.finish();
    Ok(h)
}

fn read_plugin(mut f: Fields<'_>) -> Result<PluginSpec> {
    let env = f.objects("env", |mut e| {
        let v = (
            e.string("name")?.ok_or_else(|| e.loc().err(&e.path_of("name"), "missing"))?,
            e.string("value")?.unwrap_or_default(),
        );
        e.finish();
        Ok(v)
    })?;
    let parameters = f.objects("parameters", |mut p| {
        let name = p.string("name")?.ok_or_else(|| p.loc().err(&p.path_of("name"), "missing"))?;
        let string = p.string("string")?;
        let array = p.get("array").is_some().then(|| p.strings("array")).transpose()?;
        let map = p.get("map").is_some().then(|| p.string_map("map")).transpose()?;
        let value = match (string, array, map) {
            (Some(s), None, None) => PluginValue::String(s),
            (None, Some(a), None) => PluginValue::Array(a),
            (None, None, Some(m)) => PluginValue::Map(m),
            (None, None, None) => PluginValue::String(String::new()),
            _ => return Err(p.loc().err(p.here(), "set only one of string, array and map")),
        };
        p.finish();
        Ok(PluginParameter { name, value })
    })?;
    let spec = PluginSpec { name: f.string("name")?.filter(|s| !s.is_empty()), env, parameters };
    f.finish();
    Ok(spec)
}

fn read_sync_policy(mut f: Fields<'_>) -> Result<SyncPolicy> {
    let automated = match f.object("automated")? {
        Some(mut a) => {
            let v = Automated {
                enabled: a.bool("enabled")?.unwrap_or(true),
                prune: a.bool("prune")?.unwrap_or(false),
                self_heal: a.bool("selfHeal")?.unwrap_or(false),
                allow_empty: a.bool("allowEmpty")?.unwrap_or(false),
            };
            a.finish();
            Some(v)
        }
        None => None,
    };
    let mut sync_options = Vec::new();
    let field = f.path_of("syncOptions");
    for (i, raw) in f.strings("syncOptions")?.iter().enumerate() {
        let path = format!("{field}[{i}]");
        match SyncOption::parse(raw) {
            Ok(Some(o)) => sync_options.push(o),
            Ok(None) => f.loc().warn(&path, &format!("unknown sync option {raw:?}; ignored")),
            Err(e) => return Err(f.loc().err(&path, e)),
        }
    }
    let retry = f.get("retry").cloned();
    let managed_namespace_metadata = match f.object("managedNamespaceMetadata")? {
        Some(mut m) => {
            let v =
                ManagedNamespaceMetadata { labels: m.string_map("labels")?, annotations: m.string_map("annotations")? };
            m.finish();
            Some(v)
        }
        None => None,
    };
    f.finish();
    Ok(SyncPolicy { automated, sync_options, retry, managed_namespace_metadata })
}
