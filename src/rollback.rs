//! `rollback`: sync an app again as one of its history entries recorded it.
//! The entry's source (repository, path and commit, or Application file at
//! that commit) and render record become a [`SourceSpec`], which is then
//! synced like any other, so a rollback has every safety of a sync
//! (preflight, prune confirmation, the lock) and is recorded as a new
//! history entry.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::history::{HistoryEntry, Named, RenderRecord};
use crate::net::HttpOptions;
use crate::render::chart::ChartOptions;
use crate::render::chart::values::ValueOptions;
use crate::render::plugin::PluginOptions;
use crate::render::{JsonnetOptions, JsonnetVar, RenderOptions};
use crate::source::chartrepo::{ChartRef, RepoOptions};
use crate::source::git::{GitOptions, GitSpec, RepoUrl, normalize_hosts};
use crate::source::{DirectoryOptions, SourceRequest};
use crate::usecase::SourceSpec;

/// The source of `entry`, app `app` deployed to `namespace`, as a spec that
/// renders it again: at the recorded commit, with the recorded render
/// settings. Refused, saying why, when the record cannot render it again
/// identically: a local directory (only its hash is kept), a multi-source
/// Application, values given on the command line (kept as digests), files
/// that changed since.
pub fn source_spec(
    entry: &HistoryEntry,
    app: &str,
    namespace: &str,
    git: GitOptions,
    repos: RepoOptions,
) -> Result<SourceSpec> {
    let s = &entry.source;
    let r = &s.render;
    if let Some(hash) = s.revision.strip_prefix("local:") {
        return Err(Error::Refused(format!(
            "history entry {} was synced from the local directory {} (content hash {}): only its hash is kept, \
             so it cannot be re-rendered; restore that content and sync it, or sync from git to make rollbacks possible",
            entry.id,
            s.repo_url,
            &hash[..hash.len().min(12)]
        )));
    }
    if !r.other_sources.is_empty() {
        return Err(Error::Refused(format!(
            "history entry {} comes from a multi-source Application: rollback supports single-source apps only",
            entry.id
        )));
    }
    if s.revision.is_empty() || s.repo_url.is_empty() {
        return Err(Error::Refused(format!("history entry {} records no repository and commit", entry.id)));
    }
    let unstored = r.unstored();
    if !unstored.is_empty() {
        return Err(Error::Refused(format!(
            "history entry {} was rendered with values given on the command line ({}), which the history does not \
             store (they may be secrets); sync that commit again with them: \
             `kubectl gitops sync ... --revision {}` and the same flags",
            entry.id,
            unstored.join(", "),
            s.revision
        )));
    }
    let changed = r.changed_files();
    if !changed.is_empty() {
        return Err(Error::Refused(format!(
            "history entry {} was rendered with files that no longer hold what was deployed: {}; restore them, or \
             sync that commit with the inputs you want: `kubectl gitops sync ... --revision {}`",
            entry.id,
            changed.join("; "),
            s.revision
        )));
    }
    if let Some((key, _)) = r.unknown.iter().next() {
        return Err(Error::Refused(format!(
            "history entry {} has a render setting this version does not know ({key}): it was written by a newer \
             version; roll back with that version",
            entry.id
        )));
    }
    let request = match (&r.app_file, &r.chart) {
        (Some(file), _) => SourceRequest::App {
            file: PathBuf::from(file),
            name: r.app_name.clone(),
            revision: Some(s.revision.clone()),
            offline: false,
            git,
        },
        // A chart from a repository: the version that was deployed.
        (None, Some(chart)) => SourceRequest::Chart(ChartRef {
            repo: s.repo_url.clone(),
            chart: chart.clone(),
            version: s.revision.clone(),
        }),
        (None, None) => {
            // As `--repo URL`: a token goes to the repository's host unless other hosts were named.
            let mut options = git;
            if options.token_hosts.is_empty()
                && let Ok(url) = RepoUrl::parse(&s.repo_url)
            {
                options.token_hosts = normalize_hosts(&[url.host]);
            }
            SourceRequest::Git(GitSpec {
                repo: s.repo_url.clone(),
                revision: s.revision.clone(),
                path: PathBuf::from(&s.path),
                offline: false,
                options,
            })
        }
    };
    // An Application names its release; a repository synced by name is released under the app's name.
    let release_name = r.release_name.clone().or_else(|| r.app_file.is_none().then(|| app.to_string()));
    let record = RenderRecord {
        app_revision: r.app_file.as_ref().map(|_| s.revision.clone()),
        namespace: None,
        other_sources: Vec::new(),
        ..r.clone()
    };
    let mut render = render_options(r, release_name, namespace);
    render.repos = RepoOptions {
        http: HttpOptions {
            plain_http: r.plain_http || repos.http.plain_http,
            ca_file: r.ca_file.as_ref().map(PathBuf::from).or(repos.http.ca_file.clone()),
            ..repos.http.clone()
        },
        ..repos
    };
    Ok(SourceSpec { request, render, record })
}

/// Render settings from a record that holds no digests (checked by [`source_spec`]).
fn render_options(r: &RenderRecord, release_name: Option<String>, namespace: &str) -> RenderOptions {
    let paths = |v: &[String]| v.iter().map(PathBuf::from).collect::<Vec<_>>();
    let file_of = |n: &Named| n.input.file_path().unwrap_or_default().to_string();
    let vars = |groups: [(&[Named], bool); 2]| {
        groups
            .into_iter()
            .flat_map(|(list, code)| list.iter().map(move |n| JsonnetVar::new(&n.name, &file_of(n), code, true)))
            .collect()
    };
    RenderOptions {
        directory: DirectoryOptions { recursive: r.recursive, include: r.include.clone(), exclude: r.exclude.clone() },
        chart: ChartOptions {
            release_name,
            namespace: Some(namespace.to_string()),
            values: ValueOptions {
                files: r.values.iter().filter_map(|i| i.file_path()).map(PathBuf::from).collect(),
                set_file: r.set_file.iter().map(|n| format!("{}={}", n.name, file_of(n))).collect(),
                ..ValueOptions::default()
            },
            kube_version: r.kube_version.clone(),
            api_versions: r.api_versions.clone(),
            skip_crds: r.skip_crds,
            ..ChartOptions::default()
        },
        plugins: PluginOptions {
            dirs: paths(&r.plugin_dirs),
            allow_repo_plugins: r.allow_repo_plugins,
            force: r.plugin.clone(),
            ..PluginOptions::default()
        },
        jsonnet: JsonnetOptions {
            main: r.jsonnet_main.as_ref().map(PathBuf::from),
            jpath: paths(&r.jpath),
            ext_vars: vars([(&r.ext_str_file, false), (&r.ext_code_file, true)]),
            tlas: vars([(&r.tla_str_file, false), (&r.tla_code_file, true)]),
        },
        ..RenderOptions::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{HistorySource, Input};

    fn entry(source: HistorySource) -> HistoryEntry {
        HistoryEntry { id: 3, deployed_at: String::new(), user: String::new(), source, result: "Succeeded".into() }
    }

    #[test]
    fn a_record_renders_its_source_again_at_its_commit() {
        let dir = tempfile::tempdir().unwrap();
        let values = dir.path().join("prod.yaml");
        std::fs::write(&values, "a: 1\n").unwrap();
        let commit = "a".repeat(40);
        let mut source = HistorySource {
            repo_url: "https://example.com/r.git".into(),
            path: "apps/web".into(),
            target_revision: "main".into(),
            revision: commit.clone(),
            tool: "Helm".into(),
            render: RenderRecord {
                recursive: true,
                namespace: Some("team".into()),
                values: vec![Input::file(&values)],
                ..Default::default()
            },
        };
        let spec =
            source_spec(&entry(source.clone()), "web", "team", GitOptions::default(), RepoOptions::default()).unwrap();
        let SourceRequest::Git(git) = &spec.request else { panic!("a git source: {:?}", spec.request) };
        assert_eq!((git.repo.as_str(), git.revision.as_str()), ("https://example.com/r.git", commit.as_str()));
        assert_eq!(git.path, PathBuf::from("apps/web"));
        assert!(spec.render.directory.recursive);
        assert_eq!(spec.render.chart.release_name.as_deref(), Some("web"));
        assert_eq!(spec.render.chart.values.files, [std::fs::canonicalize(&values).unwrap()]);

        // The values file changed since: refused, naming it.
        std::fs::write(&values, "a: 2\n").unwrap();
        let err = source_spec(&entry(source.clone()), "web", "team", GitOptions::default(), RepoOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("prod.yaml has changed"), "{err}");
        source.render.values.clear();

        source.render.app_file = Some("/x/app.yaml".into());
        let spec =
            source_spec(&entry(source.clone()), "web", "team", GitOptions::default(), RepoOptions::default()).unwrap();
        let SourceRequest::App { file, revision, .. } = &spec.request else { panic!("an app source") };
        assert_eq!((file.as_path(), revision.as_deref()), (std::path::Path::new("/x/app.yaml"), Some(&*commit)));
        assert_eq!(spec.render.chart.release_name, None, "an Application names its own release");
        assert_eq!(spec.record.app_revision.as_deref(), Some(commit.as_str()));

        let mut secret = source.clone();
        secret.render.tla_str = vec![Named::new("t", Input::value("s3cret"))];
        let err = source_spec(&entry(secret), "web", "team", GitOptions::default(), RepoOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("--tla-str") && err.contains("does not store") && !err.contains("s3cret"), "{err}");

        // A chart from a repository: the version that was deployed, with the recorded repository settings.
        let mut chart = source.clone();
        chart.render.app_file = None;
        chart.render.chart = Some("web".into());
        chart.render.plain_http = true;
        chart.repo_url = "http://127.0.0.1:1/charts".into();
        chart.revision = "1.2.7".into();
        let spec = source_spec(&entry(chart), "web", "team", GitOptions::default(), RepoOptions::default()).unwrap();
        let SourceRequest::Chart(c) = &spec.request else { panic!("a chart source: {:?}", spec.request) };
        assert_eq!(
            (c.repo.as_str(), c.chart.as_str(), c.version.as_str()),
            ("http://127.0.0.1:1/charts", "web", "1.2.7")
        );
        assert!(spec.render.repos.http.plain_http);
        assert_eq!(spec.render.chart.release_name.as_deref(), Some("web"));

        source.revision = format!("local:{}", "b".repeat(64));
        let err = source_spec(&entry(source), "web", "team", GitOptions::default(), RepoOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("entry 3") && err.contains("local directory"), "{err}");
    }
}
