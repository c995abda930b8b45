//! Apps by name (part of the CLI layer, with `run.rs`): `kubectl gitops
//! status web -n team-a` takes its source from app `web`'s record, the
//! newest entry of the history its ApplySet parent keeps.
//!
//! The command line is read without guessing ([`recorded_name`]): a word
//! is an app's name only when no source is given otherwise (no `--repo`,
//! `-f/--app`, `--root`) and it is not a path that exists here; a word that
//! is a path is the source, as it always was. `--recorded` says "by name"
//! outright (for a name that is also a directory here).
//!
//! The record is turned back into source flags ([`source_args`]): the
//! repository, path and *target* revision (a git source is fetched again,
//! so a new commit on the branch shows as OutOfSync), the Application file,
//! or the local directory (re-read where it was, an error when it is gone),
//! then the render flags. Values the record keeps only as digests
//! (`--set`, `--plugin-env`, `--ext-str`... may be secrets) must be given
//! again; a flag given on the command line replaces that flag's recorded
//! values.

use std::path::{Path, PathBuf};

use clap::{Args, FromArgMatches};

use crate::cli::{ClusterArgs, ListArgs, NameValue, SourceArgs};
use crate::cluster::{Cluster, ConnectOptions};
use crate::error::{Error, Result};
use crate::history::{HistoryEntry, Input, Named};
use crate::list::{AppRecord, AppRow};
use crate::sync::parent::{self, ParentKind};

/// The source flags' defaults, as clap sets them (no source given).
pub fn default_source_args() -> SourceArgs {
    let cmd = SourceArgs::augment_args(clap::Command::new("kubectl-gitops"));
    SourceArgs::from_arg_matches(&cmd.get_matches_from(["kubectl-gitops"])).expect("the defaults parse")
}

/// An app name as Kubernetes names objects (lower-case letters, digits, `-`, `.`).
fn is_app_name(word: &str) -> bool {
    !word.is_empty()
        && word.len() <= 253
        && word.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && !word.starts_with(['-', '.'])
}

/// The app the command line names for its source to come from the app's
/// record, if it does (see the module docs for the rules). `name` is
/// `--name`; `recorded` is `--recorded`.
pub fn recorded_name(source: &SourceArgs, name: Option<&str>, recorded: bool) -> Result<Option<String>> {
    let r = &source.remote;
    let flags: Vec<&str> = [
        (r.repo.is_some(), "--repo"),
        (r.app.is_some(), "-f/--app"),
        (source.root.is_some(), "--root"),
        (r.path.is_some(), "--path"),
    ]
    .into_iter()
    .filter_map(|(on, f)| on.then_some(f))
    .collect();
    let word = (source.source != Path::new(".")).then(|| source.source.display().to_string());
    if recorded {
        if !flags.is_empty() {
            return Err(Error::Usage(format!(
                "--recorded takes the source from the app's record: leave out {}",
                flags.join(", ")
            )));
        }
        return match (word, name) {
            (Some(w), Some(n)) if w != n => {
                Err(Error::Usage(format!("{w:?} and --name {n}: name the app once (with --recorded, APP is its name)")))
            }
            (Some(w), _) => Ok(Some(w)),
            (None, Some(n)) => Ok(Some(n.to_string())),
            (None, None) => Err(Error::Usage("--recorded needs the app's name: APP or --name".into())),
        };
    }
    let Some(word) = word else { return Ok(None) };
    if !flags.is_empty() || source.source.exists() || !is_app_name(&word) {
        return Ok(None);
    }
    if let Some(n) = name.filter(|n| *n != word) {
        return Err(Error::Usage(format!(
            "{word:?} is not a file or directory here, so it names an app, and --name names {n:?}: \
             name the app once (or give the source as a path that exists)"
        )));
    }
    Ok(Some(word))
}

/// Connect as `cluster` says, read app `name`'s record, and rewrite the
/// command's flags to render its recorded source: `source` becomes the
/// recorded source with the flags given kept, `--name` the app, `-n` its
/// namespace. Returns the record's newest entry.
pub fn use_record(
    source: &mut SourceArgs,
    name_flag: &mut Option<String>,
    cluster: &mut ClusterArgs,
    kind: &mut ParentKind,
    name: &str,
) -> Result<HistoryEntry> {
    let c = Cluster::connect(&connect_options(cluster, None))?;
    let ns = c.default_namespace().to_string();
    let reference = kind.reference(&ns, name);
    let place = format!("{}/{} -n {ns}", reference.kind.to_lowercase(), reference.name);
    let mut parent = parent::read(&c, reference, false)?;
    if parent.live.is_none() && *kind == ParentKind::Secret {
        // The default parent kind is not there: a set kept in a ConfigMap
        // (`--applyset-parent configmap`) is found by name too.
        let other = parent::read(&c, ParentKind::ConfigMap.reference(&ns, name), false)?;
        if other.live.is_some() {
            parent = other;
            *kind = ParentKind::ConfigMap;
        }
    }
    if parent.live.is_none() {
        return Err(Error::Usage(format!(
            "no app {name:?} in namespace {ns}: its ApplySet parent {place} does not exist \
             (`kubectl gitops list -A` lists the apps; a source on the command line, or --repo/-f, renders one)"
        )));
    }
    let Some(entry) = parent.history.last().cloned() else {
        return Err(Error::Usage(format!(
            "app {name:?} has no recorded source ({place} keeps no history): give its source on the command line"
        )));
    };
    *source = source_args(&entry, source, name)?;
    *name_flag = Some(name.to_string());
    cluster.namespace = Some(ns);
    let s = &entry.source;
    let what = match (source.remote.app.as_deref(), source.remote.repo.as_deref()) {
        (Some(file), _) => format!("Application file {}", file.display()),
        (None, Some(repo)) => format!(
            "{repo}{}{} at {}",
            if s.path.is_empty() { "" } else { " path " },
            s.path,
            source.remote.revision.as_deref().unwrap_or(crate::source::git::DEFAULT_REVISION)
        ),
        (None, None) => format!("local directory {}", source.source.display()),
    };
    eprintln!("app {name}: source from its record (sync {} of {}): {what}", entry.id, entry.deployed_at);
    Ok(entry)
}

fn connect_options(c: &ClusterArgs, namespace: Option<&str>) -> ConnectOptions {
    ConnectOptions {
        kubeconfig: c.kubeconfig.clone(),
        context: c.context.clone(),
        namespace: namespace.map(String::from).or_else(|| c.namespace.clone()),
        concurrency: c.concurrency,
    }
}

/// The source flags that render `entry`'s source again, from `given` (the
/// flags on the command line, which win flag by flag). Local paths must
/// exist; values the record keeps only as digests must be in `given`.
pub fn source_args(entry: &HistoryEntry, given: &SourceArgs, app: &str) -> Result<SourceArgs> {
    let s = &entry.source;
    let r = &s.render;
    let mut out = given.clone();
    out.source = PathBuf::from(".");
    if let Some(file) = &r.app_file {
        if !Path::new(file).exists() {
            return Err(Error::Refused(format!(
                "app {app} was last synced from the Application file {file}, which does not exist here: \
                 give the source on the command line (-f FILE)"
            )));
        }
        out.remote.app = Some(file.into());
        out.remote.app_name = r.app_name.clone();
        out.remote.revision = given.remote.revision.clone().or_else(|| r.app_revision.clone());
    } else if s.target_revision.is_empty() && s.revision.starts_with("local:") {
        if !Path::new(&s.repo_url).exists() {
            return Err(Error::Refused(format!(
                "app {app} was last synced from the local directory {}, which does not exist here: run where it \
                 does, or give the source on the command line (a directory, --repo or -f)",
                s.repo_url
            )));
        }
        out.source = PathBuf::from(&s.repo_url);
        out.root = given.root.clone().or_else(|| r.root.as_ref().map(PathBuf::from));
    } else if let Some(chart) = r.chart.clone().filter(|_| !s.repo_url.is_empty()) {
        // A chart from a repository: the version that was deployed.
        out.remote.repo = Some(s.repo_url.clone());
        out.remote.chart = Some(chart);
        out.remote.chart_version = given.remote.chart_version.clone().or_else(|| Some(s.revision.clone()));
    } else if !s.repo_url.is_empty() {
        out.remote.repo = Some(s.repo_url.clone());
        out.remote.path = (!s.path.is_empty()).then(|| PathBuf::from(&s.path));
        out.remote.revision = given
            .remote
            .revision
            .clone()
            .or_else(|| (!s.target_revision.is_empty()).then(|| s.target_revision.clone()));
    } else {
        return Err(Error::Refused(format!("app {app}'s record (sync {}) names no source", entry.id)));
    }

    out.recursive |= r.recursive;
    out.remote.plain_http |= r.plain_http;
    fill_opt(&mut out.remote.ca_file, r.ca_file.as_ref().map(PathBuf::from));
    out.chart.skip_crds |= r.skip_crds;
    out.chart.allow_repo_plugins |= r.allow_repo_plugins;
    fill(&mut out.include, r.include.clone());
    fill(&mut out.exclude, r.exclude.clone());
    fill(&mut out.chart.api_versions, r.api_versions.clone());
    fill_opt(&mut out.chart.release_name, r.release_name.clone());
    fill_opt(&mut out.chart.kube_version, r.kube_version.clone());
    fill_opt(&mut out.chart.plugin, r.plugin.clone());
    fill_opt(&mut out.jsonnet.jsonnet_main, r.jsonnet_main.as_ref().map(PathBuf::from));
    fill(&mut out.jsonnet.jpath, r.jpath.iter().map(PathBuf::from).collect());
    fill(&mut out.chart.plugin_dir, r.plugin_dirs.iter().map(PathBuf::from).collect());
    let file_of = |n: &Named| n.input.file_path().unwrap_or_default().to_string();

    let mut missing: Vec<String> = Vec::new();
    // Values files: paths, unless one was read from a pipe (then all must be given again).
    if r.values.iter().any(|i| i.file_path().is_none()) {
        if out.chart.values.is_empty() {
            missing.push("-f/--values (read from a pipe)".into());
        }
    } else {
        fill(&mut out.chart.values, r.values.iter().filter_map(|i| i.file_path()).map(PathBuf::from).collect());
    }
    fill(&mut out.chart.set_file, r.set_file.iter().map(|n| format!("{}={}", n.name, file_of(n))).collect());
    let digests = [
        ("set", &r.set, &mut out.chart.set),
        ("set-string", &r.set_string, &mut out.chart.set_string),
        ("set-json", &r.set_json, &mut out.chart.set_json),
        ("set-literal", &r.set_literal, &mut out.chart.set_literal),
        ("plugin-env", &r.plugin_env, &mut out.chart.plugin_env),
    ];
    for (flag, recorded, field) in digests {
        if recorded.is_empty() {
            continue;
        }
        if field.is_empty() {
            let n = recorded.len();
            missing.push(format!("--{flag} ({n} value{})", if n == 1 { "" } else { "s" }));
        } else if field.iter().map(|v| Input::value(v)).ne(recorded.iter().cloned()) {
            tracing::info!("--{flag}: the values given differ from those of the last sync (by digest)");
        }
    }
    for (flag, recorded) in r.jsonnet_vars() {
        let field = nv_field(&mut out, flag).expect("a Jsonnet variable flag");
        if flag.ends_with("-file") {
            fill(field, recorded.iter().map(|n| NameValue { name: n.name.clone(), value: file_of(n) }).collect());
            continue;
        }
        let lacking: Vec<&str> =
            recorded.iter().map(|n| n.name.as_str()).filter(|n| !field.iter().any(|g| g.name == *n)).collect();
        if !lacking.is_empty() {
            missing.push(format!("--{flag} {}", lacking.join(", ")));
        }
    }
    for key in r.unknown.keys() {
        tracing::warn!("app {app}'s record has a render parameter this version does not know: {key}");
    }
    if !missing.is_empty() {
        return Err(Error::Usage(format!(
            "app {app} was last synced with values its record does not keep (they may be secrets): {}; \
             give them again on the command line",
            missing.join(", ")
        )));
    }
    Ok(out)
}

/// Replace `field` with the recorded values unless the command line gave some.
fn fill<T>(field: &mut Vec<T>, recorded: Vec<T>) {
    if field.is_empty() {
        *field = recorded;
    }
}

fn fill_opt<T>(field: &mut Option<T>, recorded: Option<T>) {
    if field.is_none() {
        *field = recorded;
    }
}

fn nv_field<'a>(out: &'a mut SourceArgs, key: &str) -> Option<&'a mut Vec<NameValue>> {
    let j = &mut out.jsonnet;
    Some(match key {
        "ext-str" => &mut j.ext_str,
        "ext-code" => &mut j.ext_code,
        "tla-str" => &mut j.tla_str,
        "tla-code" => &mut j.tla_code,
        "ext-str-file" => &mut j.ext_str_file,
        "ext-code-file" => &mut j.ext_code_file,
        "tla-str-file" => &mut j.tla_str_file,
        "tla-code-file" => &mut j.tla_code_file,
        _ => return None,
    })
}

/// `list --refresh`: render every app from its record and compare it with
/// the cluster (as `status` does), `args.parallel` apps at a time, each
/// with its own connection in its namespace. An app that cannot be
/// rendered or compared keeps its recorded row, with `Unknown` sync status
/// and the reason in `message` (a panic too: it is reported as an internal error).
pub fn refresh(args: &ListArgs, apps: &[AppRecord], rows: &mut [AppRow]) {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<(usize, Result<crate::status::AppStatus>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..args.parallel.min(apps.len()))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(app) = apps.get(i) else { break };
                        // A bug in one app's refresh is that app's error, not the end of the listing.
                        let result =
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| refresh_one(&args.cluster, app)))
                                .unwrap_or_else(|panic| Err(Error::from_panic(&*panic)));
                        done.push((i, result));
                    }
                    done
                })
            })
            .collect();
        // Workers catch their apps' panics, so a join fails only if the runtime itself did.
        workers.into_iter().flat_map(|w| w.join().unwrap_or_default()).collect()
    });
    for (i, result) in results {
        let row = &mut rows[i];
        row.refreshed = true;
        match result {
            Ok(s) => {
                row.sync = s.sync.to_string();
                row.health = s.health.to_string();
                row.source_revision = Some(s.source_revision);
            }
            Err(e) => {
                eprintln!("warning: app {} -n {}: cannot refresh: {e}", row.name, row.namespace);
                row.sync = crate::list::UNKNOWN.into();
                row.message = Some(e.to_string());
            }
        }
    }
}

fn refresh_one(cluster_args: &ClusterArgs, app: &AppRecord) -> Result<crate::status::AppStatus> {
    let Some(entry) = app.last() else {
        return Err(Error::Usage("no recorded source (the parent keeps no history)".into()));
    };
    let args = source_args(entry, &default_source_args(), &app.name)?;
    let rendered = crate::usecase::render(&super::run::app_spec(&args, Some(&app.name), Some(&app.namespace))?)?;
    let cluster = Cluster::connect(&connect_options(cluster_args, Some(&app.namespace)))?;
    crate::usecase::status(&cluster, &rendered, &app.name, app.parent_kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::HistorySource;

    fn entry(source: HistorySource) -> HistoryEntry {
        HistoryEntry { id: 2, deployed_at: String::new(), user: String::new(), source, result: "Succeeded".into() }
    }

    #[test]
    fn a_word_is_a_name_only_when_it_is_no_path_and_no_source_is_given() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = default_source_args();
        assert_eq!(recorded_name(&a, None, false).unwrap(), None);
        a.source = PathBuf::from("web");
        assert_eq!(recorded_name(&a, None, false).unwrap().as_deref(), Some("web"));
        assert_eq!(recorded_name(&a, Some("web"), false).unwrap().as_deref(), Some("web"));
        assert!(recorded_name(&a, Some("api"), false).is_err());
        a.source = dir.path().to_path_buf();
        assert_eq!(recorded_name(&a, Some("web"), false).unwrap(), None, "a path is the source");
        a.source = PathBuf::from("./typo/dir");
        assert_eq!(recorded_name(&a, None, false).unwrap(), None, "not a name: read as a path");
        a.source = PathBuf::from("web");
        a.remote.repo = Some("https://example.com/r.git".into());
        assert_eq!(recorded_name(&a, None, false).unwrap(), None);
        assert!(recorded_name(&a, None, true).unwrap_err().to_string().contains("--repo"));
        let mut d = default_source_args();
        d.source = dir.path().to_path_buf();
        let word = dir.path().display().to_string();
        assert_eq!(recorded_name(&d, None, true).unwrap(), Some(word), "--recorded: the word is the name");
        assert_eq!(recorded_name(&default_source_args(), Some("web"), true).unwrap().as_deref(), Some("web"));
    }

    #[test]
    fn a_chart_record_renders_the_deployed_version_again() {
        let mut s = HistorySource {
            repo_url: "https://charts.example.com/".into(),
            path: String::new(),
            target_revision: "~1.2".into(),
            revision: "1.2.7".into(),
            tool: "Helm".into(),
            render: Default::default(),
        };
        s.render.chart = Some("web".into());
        s.render.chart_version = Some("~1.2".into());
        s.render.plain_http = true;
        let out = source_args(&entry(s), &default_source_args(), "web").unwrap();
        assert!(out.remote.plain_http);
        assert_eq!(out.remote.repo.as_deref(), Some("https://charts.example.com/"));
        assert_eq!(out.remote.chart.as_deref(), Some("web"));
        assert_eq!(out.remote.chart_version.as_deref(), Some("1.2.7"));
        assert_eq!(out.remote.revision, None);
        assert!(crate::cli::convert::source_request(&out).is_ok());
    }

    #[test]
    fn records_become_source_flags_and_secrets_must_be_given_again() {
        let mut s = HistorySource {
            repo_url: "https://example.com/r.git".into(),
            path: "apps/web".into(),
            target_revision: "main".into(),
            revision: "a".repeat(40),
            tool: "Helm".into(),
            render: Default::default(),
        };
        s.render.namespace = Some("team".into());
        s.render.recursive = true;
        s.render.release_name = Some("r".into());
        let out = source_args(&entry(s.clone()), &default_source_args(), "web").unwrap();
        assert_eq!(out.remote.repo.as_deref(), Some("https://example.com/r.git"));
        assert_eq!(out.remote.revision.as_deref(), Some("main"), "the branch, not the commit");
        assert_eq!(out.remote.path.as_deref(), Some(Path::new("apps/web")));
        assert!(out.recursive);
        assert_eq!(out.chart.release_name.as_deref(), Some("r"));

        s.render.set = vec![Input::value("password=hunter2")];
        s.render.ext_str = vec![Named::new("token", Input::value("t"))];
        let err = source_args(&entry(s.clone()), &default_source_args(), "web").unwrap_err().to_string();
        assert!(err.contains("--set (1 value)") && err.contains("--ext-str token"), "{err}");
        assert!(!err.contains("hunter2"));
        let mut given = default_source_args();
        given.chart.set = vec!["password=hunter2".into()];
        given.jsonnet.ext_str = vec![NameValue { name: "token".into(), value: "t".into() }];
        let out = source_args(&entry(s.clone()), &given, "web").unwrap();
        assert_eq!(out.chart.set, ["password=hunter2"]);

        let gone = HistorySource {
            repo_url: "/no/such/dir".into(),
            revision: format!("local:{}", "b".repeat(64)),
            ..Default::default()
        };
        let err = source_args(&entry(gone), &default_source_args(), "web").unwrap_err().to_string();
        assert!(err.contains("local directory /no/such/dir") && err.contains("does not exist"), "{err}");
    }
}
