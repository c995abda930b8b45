//! The one place command-line flags become library settings: the source
//! flags become a [`SourceSpec`] (request, render options, the parameters
//! the history records), the sync flags a [`SyncRequest`].

use std::path::{Path, PathBuf};

use crate::cli::{ChartArgs, JsonnetArgs, SourceArgs, SyncArgs};
use crate::error::{Error, Result};
use crate::net::{Credential, HttpOptions};
use crate::render::chart::ChartOptions;
use crate::render::chart::values::ValueOptions;
use crate::render::plugin::PluginOptions;
use crate::render::{JsonnetOptions, JsonnetVar, RenderOptions};
use crate::source::chartrepo::{ChartRef, HostCredential, RepoOptions};
use crate::source::git::{DEFAULT_REVISION, GitOptions, GitSpec, RepoUrl, SnapshotLimits, normalize_hosts};
use crate::source::{DirectoryOptions, SourceRequest};
use crate::usecase::{RetryOverride, SourceSpec, SyncRequest};

/// The source flags as a library source; `namespace` is the release
/// namespace of a chart (the command's `-n`).
pub fn source_spec(args: &SourceArgs, namespace: Option<&str>) -> Result<SourceSpec> {
    Ok(SourceSpec {
        request: source_request(args)?,
        render: render_options(args, namespace),
        parameters: render_parameters(args),
    })
}

/// The chart flags; `namespace` is the release namespace.
pub fn chart_options(args: &ChartArgs, namespace: Option<&str>) -> ChartOptions {
    ChartOptions {
        release_name: args.release_name.clone(),
        namespace: namespace.map(String::from),
        values: ValueOptions {
            files: args.values.clone(),
            set: args.set.clone(),
            set_string: args.set_string.clone(),
            set_file: args.set_file.clone(),
            set_json: args.set_json.clone(),
            set_literal: args.set_literal.clone(),
        },
        kube_version: args.kube_version.clone(),
        api_versions: args.api_versions.clone(),
        skip_crds: args.skip_crds,
        dependencies: Vec::new(),
        dependency_failures: Vec::new(),
    }
}

/// The plugin flags.
pub fn plugin_options(args: &ChartArgs) -> PluginOptions {
    PluginOptions {
        dirs: args.plugin_dir.clone(),
        allow_repo_plugins: args.allow_repo_plugins,
        env: args
            .plugin_env
            .iter()
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (kv.clone(), String::new()),
            })
            .collect(),
        timeout: std::time::Duration::from_secs(args.plugin_timeout),
        force: args.plugin.clone(),
        ..PluginOptions::default()
    }
}

/// The sync flags.
pub fn sync_request(args: &SyncArgs) -> SyncRequest {
    SyncRequest {
        prune: args.prune,
        dry_run: args.dry_run,
        force_conflicts: args.force_conflicts,
        adopt: args.adopt,
        fail_on_shared_resource: args.fail_on_shared_resource,
        allow_empty: args.allow_empty,
        confirm_mass_prune: args.confirm_mass_prune,
        prune_crds_with_objects: args.prune_crds_with_objects,
        cascade: args.cascade,
        wait: args.wait,
        timeout: args.timeout,
        create_namespace: args.create_namespace,
        lock_duration: args.lock_duration,
        parent_kind: args.applyset_parent,
        revision_history_limit: args.revision_history_limit,
        retry: RetryOverride {
            limit: args.retry_limit,
            duration: args.retry_backoff_duration,
            max_duration: args.retry_backoff_max_duration,
            factor: args.retry_backoff_factor,
        },
    }
}

pub fn render_options(args: &SourceArgs, namespace: Option<&str>) -> RenderOptions {
    RenderOptions {
        chart: chart_options(&args.chart, namespace),
        plugins: plugin_options(&args.chart),
        directory: DirectoryOptions {
            recursive: args.recursive,
            include: args.include.clone(),
            exclude: args.exclude.clone(),
        },
        cwd: None,
        jsonnet: jsonnet_options(&args.jsonnet),
        tool: None,
        build: Default::default(),
        limits: crate::render::limits::Limits {
            timeout: args.render_timeout,
            max_output: args.max_render_bytes,
            max_depth: args.max_nesting,
        },
        repos: repo_options(&args.remote),
    }
}

/// Chart repository settings from the flags. Credentials go to
/// `--repo-credential-hosts`, else to the host of `--repo` only (an
/// Application file's `repoURL` alone never earns them).
pub fn repo_options(r: &crate::cli::RemoteSourceArgs) -> RepoOptions {
    let credential = match (&r.repo_token, &r.repo_username) {
        (Some(token), _) => Some(Credential::Bearer(token.clone())),
        (None, Some(user)) => {
            Some(Credential::Basic { username: user.clone(), password: r.repo_password.clone().unwrap_or_default() })
        }
        (None, None) => None,
    };
    let mut hosts: Vec<String> =
        r.repo_credential_hosts.iter().map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect();
    if hosts.is_empty()
        && let Some(url) = r.repo.as_deref().and_then(|u| {
            url::Url::parse(u.strip_prefix("oci://").map_or(u.to_string(), |rest| format!("https://{rest}")).as_str())
                .ok()
        })
        && let Some(host) = url.host_str()
    {
        hosts.push(match url.port() {
            Some(p) => format!("{}:{p}", host.to_ascii_lowercase()),
            None => host.to_ascii_lowercase(),
        });
    }
    RepoOptions {
        http: HttpOptions { plain_http: r.plain_http, ca_file: r.ca_file.clone(), ..Default::default() },
        offline: r.offline,
        credentials: credential
            .map(|c| hosts.into_iter().map(|host| HostCredential { host, credential: c.clone() }).collect())
            .unwrap_or_default(),
        docker_config: r.registry_config.clone(),
        repositories_file: crate::source::chartrepo::deps::repositories_file(),
    }
}

fn jsonnet_options(a: &JsonnetArgs) -> JsonnetOptions {
    let vars = |groups: [(&[crate::cli::NameValue], bool, bool); 4]| {
        groups
            .into_iter()
            .flat_map(|(list, code, file)| list.iter().map(move |nv| JsonnetVar::new(&nv.name, &nv.value, code, file)))
            .collect()
    };
    JsonnetOptions {
        main: a.jsonnet_main.clone(),
        jpath: a.jpath.clone(),
        ext_vars: vars([
            (&a.ext_str, false, false),
            (&a.ext_code, true, false),
            (&a.ext_str_file, false, true),
            (&a.ext_code_file, true, true),
        ]),
        tlas: vars([
            (&a.tla_str, false, false),
            (&a.tla_code, true, false),
            (&a.tla_str_file, false, true),
            (&a.tla_code_file, true, true),
        ]),
    }
}

/// Where the source flags point: a local path, a git repository or an Application.
pub fn source_request(args: &SourceArgs) -> Result<SourceRequest> {
    let r = &args.remote;
    let git = git_options(r);
    if args.root.is_some() && (r.app.is_some() || r.repo.is_some()) {
        return Err(Error::Usage(
            "--root applies to a local source; a git or Application source is rooted at its repository".into(),
        ));
    }
    if let Some(file) = &r.app {
        // With an Application source, the positional word names the Application.
        let positional = (args.source != Path::new(".")).then(|| args.source.display().to_string());
        if let (Some(word), Some(name)) = (&positional, &r.app_name) {
            return Err(Error::Usage(format!("{word:?} and --app-name {name}: name the Application once")));
        }
        return Ok(SourceRequest::App {
            file: file.clone(),
            name: r.app_name.clone().or(positional),
            revision: r.revision.clone(),
            offline: r.offline,
            git,
        });
    }
    if let (Some(repo), Some(chart)) = (&r.repo, &r.chart) {
        if r.revision.is_some() || r.path.is_some() {
            return Err(Error::Usage("--chart takes --version (not --revision or --path)".into()));
        }
        return Ok(SourceRequest::Chart(ChartRef {
            repo: repo.clone(),
            chart: chart.clone(),
            version: r.chart_version.clone().unwrap_or_default(),
        }));
    }
    if let Some(repo) = &r.repo {
        return Ok(SourceRequest::Git(GitSpec {
            repo: repo.clone(),
            revision: r.revision.clone().unwrap_or_else(|| DEFAULT_REVISION.into()),
            path: r.path.clone().unwrap_or_default(),
            offline: r.offline,
            options: git,
        }));
    }
    // `--offline` with a local source: chart dependencies from the cache only.
    if r.revision.is_some() {
        return Err(Error::Usage("--revision is for git and Application sources (need --repo or --app)".into()));
    }
    Ok(SourceRequest::Local { path: args.source.clone(), root: args.root.clone() })
}

/// Git settings from the flags (their environment variables included). The
/// token goes to `--git-token-hosts`, else to the host of `--repo` only: an
/// Application file's `repoURL` alone never earns it.
fn git_options(r: &crate::cli::RemoteSourceArgs) -> GitOptions {
    let d = SnapshotLimits::default();
    let limits = SnapshotLimits {
        max_bytes: r.git_max_bytes.unwrap_or(d.max_bytes),
        max_files: r.git_max_files.unwrap_or(d.max_files),
        max_depth: r.git_max_depth.unwrap_or(d.max_depth),
    };
    let mut token_hosts = normalize_hosts(&r.git_token_hosts);
    if token_hosts.is_empty()
        && let Some(url) = r.repo.as_deref().and_then(|u| RepoUrl::parse(u).ok())
    {
        token_hosts = normalize_hosts(&[url.host]);
    }
    GitOptions { limits, token_hosts }
}

/// The render flags given, by flag name (recorded in the history).
pub fn render_parameters(args: &SourceArgs) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut p = std::collections::BTreeMap::new();
    let mut put = |k: &str, v: Vec<String>| {
        if !v.is_empty() {
            p.insert(k.to_string(), v);
        }
    };
    // Local files by absolute path, so that a rollback run elsewhere finds them.
    let abs = |x: &Path| std::fs::canonicalize(x).unwrap_or_else(|_| x.to_path_buf()).display().to_string();
    let paths = |v: &[PathBuf]| v.iter().map(|x| abs(x)).collect::<Vec<_>>();
    // Values given on the command line may be secrets: the record keeps
    // that they were given, and a digest, never the value.
    let secrets = |v: &[String]| v.iter().map(|x| crate::history::secret_digest(x)).collect::<Vec<_>>();
    let nvs = |v: &[crate::cli::NameValue]| {
        v.iter().map(|x| format!("{}={}", x.name, crate::history::secret_digest(&x.value))).collect::<Vec<_>>()
    };
    // Files by absolute path and content digest, so that a rollback can
    // tell that they still hold what was deployed. Values read from a pipe
    // cannot be read again: recorded like a value given inline.
    let spilled = |x: &Path| args.spilled.iter().any(|d| x.starts_with(d.path()));
    let file = |x: &Path| match std::fs::read(x) {
        Ok(bytes) if spilled(x) => crate::history::secret_digest(&String::from_utf8_lossy(&bytes)),
        _ => crate::history::file_record(x),
    };
    let files = |v: &[PathBuf]| v.iter().map(|x| file(x)).collect::<Vec<_>>();
    let nv_files = |v: &[crate::cli::NameValue]| {
        v.iter().map(|x| format!("{}={}", x.name, file(Path::new(&x.value)))).collect::<Vec<_>>()
    };
    let set_files = |v: &[String]| {
        v.iter()
            .map(|x| match x.split_once('=') {
                Some((k, p)) => format!("{k}={}", file(Path::new(p))),
                None => x.clone(),
            })
            .collect::<Vec<_>>()
    };
    let (c, j, r) = (&args.chart, &args.jsonnet, &args.remote);
    put("app", r.app.as_deref().map(abs).into_iter().collect());
    put("app-name", r.app_name.clone().into_iter().collect());
    put("chart", r.chart.clone().into_iter().collect());
    put("version", r.chart_version.clone().into_iter().collect());
    put("plain-http", if r.plain_http { vec!["true".into()] } else { vec![] });
    put("ca-file", r.ca_file.as_deref().map(abs).into_iter().collect());
    // What the Application alone does not say: its revision when given, the root of a local source.
    put("revision", if r.app.is_some() { r.revision.clone().into_iter().collect() } else { vec![] });
    put("root", args.root.as_deref().map(abs).into_iter().collect());
    put("recursive", if args.recursive { vec!["true".into()] } else { vec![] });
    put("include", args.include.clone());
    put("exclude", args.exclude.clone());
    put("release-name", c.release_name.clone().into_iter().collect());
    put("values", files(&c.values));
    put("set", secrets(&c.set));
    put("set-string", secrets(&c.set_string));
    put("set-file", set_files(&c.set_file));
    put("set-json", secrets(&c.set_json));
    put("set-literal", secrets(&c.set_literal));
    put("kube-version", c.kube_version.clone().into_iter().collect());
    put("api-versions", c.api_versions.clone());
    put("plugin", c.plugin.clone().into_iter().collect());
    put("plugin-dir", paths(&c.plugin_dir));
    put("skip-crds", if c.skip_crds { vec!["true".into()] } else { vec![] });
    put("allow-repo-plugins", if c.allow_repo_plugins { vec!["true".into()] } else { vec![] });
    put("plugin-env", secrets(&c.plugin_env));
    put("jsonnet-main", j.jsonnet_main.as_deref().map(|x| x.display().to_string()).into_iter().collect());
    put("jpath", paths(&j.jpath));
    put("ext-str", nvs(&j.ext_str));
    put("ext-code", nvs(&j.ext_code));
    put("ext-str-file", nv_files(&j.ext_str_file));
    put("ext-code-file", nv_files(&j.ext_code_file));
    put("tla-str", nvs(&j.tla_str));
    put("tla-code", nvs(&j.tla_code));
    put("tla-str-file", nv_files(&j.tla_str_file));
    put("tla-code-file", nv_files(&j.tla_code_file));
    p
}

/// `image-update` flags as the run's settings.
pub fn image_update_settings(args: &crate::cli::ImageUpdateArgs) -> crate::imageupdate::update::UpdateSettings {
    use crate::imageupdate::registry::RegistrySettings;
    crate::imageupdate::update::UpdateSettings {
        registries: RegistrySettings {
            plain_http: args.plain_http,
            insecure: args.insecure_registries.clone(),
            ca_file: args.ca_file.clone(),
            docker_config: args.registry_config.clone(),
            rate_limit: args.rate_limit,
            cluster: crate::cluster::ConnectOptions {
                kubeconfig: args.kubeconfig.clone(),
                context: args.context.clone(),
                namespace: None,
                concurrency: crate::cluster::DEFAULT_CONCURRENCY,
            },
            ..RegistrySettings::default()
        },
        git: GitOptions::from_env(),
        push: args.push,
        author_name: args.git_commit_user.clone(),
        author_email: args.git_commit_email.clone(),
        attempts: args.push_attempts,
    }
}
