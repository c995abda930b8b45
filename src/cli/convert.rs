//! The one place command-line flags become library settings: the source
//! flags become a [`SourceSpec`] (request, render options, the parameters
//! the history records), the sync flags a [`SyncRequest`].

use std::path::{Path, PathBuf};

use crate::cli::{ChartArgs, JsonnetArgs, SourceArgs, SyncArgs};
use crate::error::{Error, Result};
use crate::history::{Input, Named, RenderRecord};
use crate::net::{Credential, HttpOptions};
use crate::render::chart::ChartOptions;
use crate::render::chart::values::ValueOptions;
use crate::render::plugin::PluginOptions;
use crate::render::{JsonnetOptions, JsonnetVar, RenderOptions};
use crate::source::chartrepo::{ChartRef, HostCredential, RepoOptions};
use crate::source::git::{DEFAULT_REVISION, GitOptions, GitSpec, RepoUrl, SnapshotLimits, normalize_hosts};
use crate::source::{DirectoryOptions, SourceRequest};
use crate::usecase::{RetryOverride, RollbackRequest, SourceSpec, SyncRequest};

/// The source flags as a library source; `namespace` is the release
/// namespace of a chart (the command's `-n`).
pub fn source_spec(args: &SourceArgs, namespace: Option<&str>) -> Result<SourceSpec> {
    Ok(SourceSpec {
        request: source_request(args)?,
        render: render_options(args, namespace),
        record: render_record(args),
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

/// The rollback flags; git settings from the environment, as for a sync.
pub fn rollback_request(args: &crate::cli::RollbackArgs) -> RollbackRequest {
    let defaults = crate::cli::by_name::default_source_args();
    RollbackRequest {
        app: args.app.clone(),
        id: args.id,
        force: args.force,
        sync: SyncRequest {
            prune: args.prune,
            dry_run: args.dry_run,
            force_conflicts: args.force_conflicts,
            wait: args.wait,
            parent_kind: args.applyset_parent,
            ..SyncRequest::default()
        },
        git: git_options(&defaults.remote),
        repos: repo_options(&defaults.remote),
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

/// The render flags given, as the history records them (see [`RenderRecord`]).
pub fn render_record(args: &SourceArgs) -> RenderRecord {
    // Local files by absolute path, so that a rollback run elsewhere finds them.
    let abs = |x: &Path| std::fs::canonicalize(x).unwrap_or_else(|_| x.to_path_buf()).display().to_string();
    let paths = |v: &[PathBuf]| v.iter().map(|x| abs(x)).collect::<Vec<_>>();
    // Values given on the command line may be secrets: the record keeps
    // that they were given, and a digest, never the value.
    let secrets = |v: &[String]| v.iter().map(|x| Input::value(x)).collect::<Vec<_>>();
    let nvs = |v: &[crate::cli::NameValue]| v.iter().map(|x| Named::new(&x.name, Input::value(&x.value))).collect();
    // Files by absolute path and content digest, so that a rollback can
    // tell that they still hold what was deployed. Values read from a pipe
    // cannot be read again: recorded like a value given inline.
    let spilled = |x: &Path| args.spilled.iter().any(|d| x.starts_with(d.path()));
    let file = |x: &Path| match std::fs::read(x) {
        Ok(bytes) if spilled(x) => Input::value(&String::from_utf8_lossy(&bytes)),
        _ => Input::file(x),
    };
    let nv_files =
        |v: &[crate::cli::NameValue]| v.iter().map(|x| Named::new(&x.name, file(Path::new(&x.value)))).collect();
    let (c, j, r) = (&args.chart, &args.jsonnet, &args.remote);
    RenderRecord {
        app_file: r.app.as_deref().map(abs),
        app_name: r.app_name.clone(),
        chart: r.chart.clone(),
        chart_version: r.chart_version.clone(),
        plain_http: r.plain_http,
        ca_file: r.ca_file.as_deref().map(abs),
        // What the Application alone does not say: its revision when given, the root of a local source.
        app_revision: r.app.as_ref().and(r.revision.clone()),
        root: args.root.as_deref().map(abs),
        recursive: args.recursive,
        include: args.include.clone(),
        exclude: args.exclude.clone(),
        release_name: c.release_name.clone(),
        values: c.values.iter().map(|x| file(x)).collect(),
        set: secrets(&c.set),
        set_string: secrets(&c.set_string),
        set_file: c
            .set_file
            .iter()
            .map(|x| match x.split_once('=') {
                Some((k, p)) => Named::new(k, file(Path::new(p))),
                None => Named::new(x, Input::File { path: String::new(), sha256: None }),
            })
            .collect(),
        set_json: secrets(&c.set_json),
        set_literal: secrets(&c.set_literal),
        kube_version: c.kube_version.clone(),
        api_versions: c.api_versions.clone(),
        plugin: c.plugin.clone(),
        plugin_dirs: paths(&c.plugin_dir),
        skip_crds: c.skip_crds,
        allow_repo_plugins: c.allow_repo_plugins,
        plugin_env: secrets(&c.plugin_env),
        jsonnet_main: j.jsonnet_main.as_deref().map(|x| x.display().to_string()),
        jpath: paths(&j.jpath),
        ext_str: nvs(&j.ext_str),
        ext_code: nvs(&j.ext_code),
        ext_str_file: nv_files(&j.ext_str_file),
        ext_code_file: nv_files(&j.ext_code_file),
        tla_str: nvs(&j.tla_str),
        tla_code: nvs(&j.tla_code),
        tla_str_file: nv_files(&j.tla_str_file),
        tla_code_file: nv_files(&j.tla_code_file),
        ..RenderRecord::default()
    }
}

/// The agent's flags: where the Applications are, how often, where it listens.
/// The webhook secret comes from `--webhook-secret-file`, else `KUBECTL_GITOPS_WEBHOOK_SECRET`.
pub fn agent_options(args: &crate::cli::AgentArgs, source: &SourceRequest) -> Result<crate::agent::AgentOptions> {
    use crate::agent::AppsSource;
    let s = &args.source;
    if s.source != Path::new(".") {
        return Err(Error::Usage(format!(
            "agent takes its Applications from -f FILE_OR_DIR or --repo URL --path DIR, not {:?}",
            s.source.display().to_string()
        )));
    }
    if !s.chart.values.is_empty() {
        return Err(Error::Usage(
            "agent: -f takes Application files or directories; values files belong in each Application's helm.valueFiles"
                .into(),
        ));
    }
    if s.remote.offline || s.remote.app_name.is_some() || (s.remote.app.is_some() && s.remote.revision.is_some()) {
        return Err(Error::Usage(
            "agent: --offline, --app-name and --revision with -f do not apply (every Application is reconciled as it says)"
                .into(),
        ));
    }
    let apps = match source {
        SourceRequest::App { file, .. } => AppsSource::Path(file.clone()),
        SourceRequest::Git(spec) => AppsSource::Git(spec.clone()),
        SourceRequest::Local { .. } | SourceRequest::Chart(_) => {
            return Err(Error::Usage(
                "agent needs its Applications: -f FILE_OR_DIR, or --repo URL --path DIR (an app-of-apps root)".into(),
            ));
        }
    };
    let secret = match &args.webhook_secret_file {
        Some(f) => Some(std::fs::read(f).map_err(|e| Error::io(f, e))?),
        None => std::env::var_os(WEBHOOK_SECRET_ENV).map(|v| v.into_encoded_bytes()),
    };
    // A secret file usually ends with a newline that is not part of the secret.
    let secret = secret.map(|mut s| {
        while s.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            s.pop();
        }
        s
    });
    if secret.as_ref().is_some_and(|s| s.is_empty()) {
        return Err(Error::Usage("the webhook secret is empty".into()));
    }
    Ok(crate::agent::AgentOptions {
        apps,
        interval: args.interval,
        drift_interval: args.drift_interval,
        parallel: args.parallel,
        once: args.once,
        shard: args.shard,
        listen: args.listen,
        webhook_secret: secret,
    })
}

/// Environment variable holding the agent's webhook secret.
pub const WEBHOOK_SECRET_ENV: &str = "KUBECTL_GITOPS_WEBHOOK_SECRET";

/// How the agent's automated syncs run (prune and allow-empty come from each Application).
pub fn agent_sync_request(args: &crate::cli::AgentArgs) -> SyncRequest {
    SyncRequest {
        timeout: args.timeout,
        lock_duration: args.lock_duration,
        parent_kind: args.applyset_parent,
        ..SyncRequest::default()
    }
}

/// The git settings of a source request (every repository the agent fetches uses them).
pub fn git_settings(req: &SourceRequest) -> GitOptions {
    match req {
        SourceRequest::App { git, .. } => git.clone(),
        SourceRequest::Git(spec) => spec.options.clone(),
        SourceRequest::Local { .. } | SourceRequest::Chart(_) => GitOptions::default(),
    }
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
