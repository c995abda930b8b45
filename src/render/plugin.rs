//! Render plugins: YAML files shaped like Argo CD's ConfigManagementPlugin
//! that turn a source directory into manifests by running a command.
//!
//! Where plugins come from, in order: each `--plugin-dir`, then the user's
//! config directory (`$XDG_CONFIG_HOME/kubectl-gitops/plugins`, else
//! `~/.config/kubectl-gitops/plugins`), then, only with
//! `--allow-repo-plugins`, `.kubectl-gitops/plugins/` at the source root
//! (plugins run commands, so a config repo cannot bring its own unasked).
//!
//! When plugins run: with `--plugin NAME` (or an Application's `plugin`
//! block naming one), that plugin renders any source; an Application's
//! `plugin` block without a name picks the first plugin whose
//! `spec.discover` matches. Otherwise built-in renderers win, as in Argo CD,
//! and a directory no built-in tool claims goes to a plugin that discovers it.
//!
//! The command runs in the source directory with the caller's environment
//! plus Argo CD's (`ARGOCD_APP_NAME`, `ARGOCD_APP_NAMESPACE`,
//! `ARGOCD_APP_REVISION`, `ARGOCD_APP_SOURCE_PATH`, `ARGOCD_APP_SOURCE_REPO_URL`, `KUBE_VERSION`,
//! `KUBE_API_VERSIONS`, `ARGOCD_ENV_<NAME>` parameters) and
//! `KUBECTL_GITOPS_HELM_ARGS`: the chart flags (`-f` with absolute paths,
//! `--set`...), one per line. Its stdout is decoded like any manifest stream.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::decode::decode_manifests;
use super::limits::{Budget, Limit};
use crate::error::{Error, Result};
use crate::model::Object;
use crate::source::LocalSource;
use crate::yaml::{Dialect, parse_stream};

/// Where plugins are looked up and how they run.
#[derive(Debug, Clone)]
pub struct PluginOptions {
    pub dirs: Vec<PathBuf>,
    /// Also the user's config directory (off in tests).
    pub user_dir: bool,
    pub allow_repo_plugins: bool,
    /// `ARGOCD_ENV_<NAME>` parameters.
    pub env: Vec<(String, String)>,
    pub timeout: Duration,
    /// Render with this plugin whatever the source is.
    pub force: Option<String>,
    /// The source must be rendered by a plugin found through its discover
    /// rules (an Application's `plugin` block without a name).
    pub discover: bool,
    /// Variables passed as they are (an Application's plugin parameters:
    /// `ARGOCD_APP_PARAMETERS`, `PARAM_*`).
    pub raw_env: Vec<(String, String)>,
}

impl Default for PluginOptions {
    fn default() -> Self {
        PluginOptions {
            dirs: Vec::new(),
            user_dir: true,
            allow_repo_plugins: false,
            env: Vec::new(),
            timeout: Duration::from_secs(90),
            force: None,
            discover: false,
            raw_env: Vec::new(),
        }
    }
}

/// What a plugin command is told about the application.
#[derive(Debug, Clone, Default)]
pub struct AppInfo {
    /// The release name (`KUBECTL_GITOPS_RELEASE_NAME`; also `ARGOCD_APP_NAME`
    /// unless the resolved source names the app).
    pub name: String,
    pub namespace: String,
    pub kube_version: String,
    pub api_versions: Vec<String>,
    /// Chart flags for `helm template`, one argument per entry.
    pub helm_args: Vec<String>,
    /// The caller's working directory (relative value paths are from there).
    pub cwd: PathBuf,
    /// The source directory, absolute.
    pub source_dir: PathBuf,
    /// `ARGOCD_APP_*` values known from the resolved source (git commit, repo,
    /// Application); they win over what the local checkout says.
    pub build_vars: Vec<(String, String)>,
}

/// A parsed plugin file.
#[derive(Debug, Clone)]
pub struct Plugin {
    pub name: String,
    pub file: PathBuf,
    discover_file_name: Option<String>,
    discover_glob: Option<String>,
    discover_command: Option<Vec<String>>,
    init: Option<Vec<String>>,
    generate: Vec<String>,
}

/// The plugin directories in lookup order (existing or not).
pub fn plugin_dirs(opts: &PluginOptions, src: &LocalSource) -> Vec<PathBuf> {
    let mut dirs = opts.dirs.clone();
    if opts.user_dir {
        let config = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
        if let Some(c) = config {
            dirs.push(c.join("kubectl-gitops").join("plugins"));
        }
    }
    if opts.allow_repo_plugins {
        dirs.push(src.root().join(".kubectl-gitops").join("plugins"));
    }
    dirs
}

/// Every plugin in `dirs`, in order (files sorted by name within a directory).
pub fn load_plugins(dirs: &[PathBuf]) -> Result<Vec<Plugin>> {
    let mut out = Vec::new();
    for dir in dirs {
        let Ok(rd) = std::fs::read_dir(dir) else { continue };
        let mut files: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
            .collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).map_err(|e| Error::io(&f, e))?;
            let docs = parse_stream(&text, Dialect::Kubectl)
                .map_err(|source| Error::Yaml { file: f.display().to_string(), source })?;
            for doc in docs.into_iter().filter(|d| !d.value.is_null()) {
                out.push(parse_plugin(&doc.value, &f)?);
            }
        }
    }
    Ok(out)
}

fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    Some(v?.as_array()?.iter().map(|x| x.as_str().map(String::from).unwrap_or_else(|| x.to_string())).collect())
}

fn command(v: Option<&Value>) -> Option<Vec<String>> {
    let v = v?;
    let mut cmd = strings(v.get("command"))?;
    cmd.extend(strings(v.get("args")).unwrap_or_default());
    (!cmd.is_empty()).then_some(cmd)
}

fn parse_plugin(v: &Value, file: &Path) -> Result<Plugin> {
    let bad = |m: &str| Error::Plugin { plugin: file.display().to_string(), message: m.to_string() };
    if v.get("kind").and_then(Value::as_str) != Some("ConfigManagementPlugin") {
        return Err(bad("not a ConfigManagementPlugin (kind: ConfigManagementPlugin expected)"));
    }
    let name = v.pointer("/metadata/name").and_then(Value::as_str).ok_or_else(|| bad("metadata.name is required"))?;
    let spec = v.get("spec").ok_or_else(|| bad("spec is required"))?;
    let generate = command(spec.get("generate")).ok_or_else(|| bad("spec.generate.command is required"))?;
    let discover = spec.get("discover");
    Ok(Plugin {
        name: name.to_string(),
        file: file.to_path_buf(),
        discover_file_name: discover.and_then(|d| d.get("fileName")).and_then(Value::as_str).map(String::from),
        discover_glob: discover.and_then(|d| d.pointer("/find/glob")).and_then(Value::as_str).map(String::from),
        discover_command: discover.and_then(|d| command(d.get("find"))),
        init: command(spec.get("init")),
        generate,
    })
}

impl Plugin {
    /// Does this plugin's `spec.discover` match the source directory?
    pub fn discovers(&self, dir: &Path) -> bool {
        // `fileName`: a glob relative to the directory, `*` not crossing `/` (Go's filepath.Glob).
        if let Some(pattern) = &self.discover_file_name
            && let Ok(g) = globset::GlobBuilder::new(pattern.trim_start_matches("./")).literal_separator(true).build()
        {
            let m = g.compile_matcher();
            let depth = pattern.trim_start_matches("./").split('/').count();
            let found = walkdir::WalkDir::new(dir)
                .min_depth(1)
                .max_depth(depth)
                .into_iter()
                .flatten()
                .any(|e| e.path().strip_prefix(dir).is_ok_and(|rel| m.is_match(rel)));
            if found {
                return true;
            }
        }
        if let Some(pattern) = &self.discover_glob
            && let Ok(g) = globset::Glob::new(pattern.trim_start_matches("./"))
        {
            let m = g.compile_matcher();
            let found = walkdir::WalkDir::new(dir)
                .into_iter()
                .flatten()
                .any(|e| e.path().strip_prefix(dir).is_ok_and(|rel| m.is_match(rel)));
            if found {
                return true;
            }
        }
        if let Some(cmd) = &self.discover_command {
            let out = Command::new(&cmd[0]).args(&cmd[1..]).current_dir(dir).stderr(Stdio::null()).output();
            return out.is_ok_and(|o| o.status.success() && !o.stdout.iter().all(u8::is_ascii_whitespace));
        }
        false
    }

    /// Run `init` then `generate` in the source directory; decode the output.
    pub fn render(
        &self,
        src: &LocalSource,
        app: &AppInfo,
        opts: &PluginOptions,
        budget: &Budget,
    ) -> Result<Vec<Object>> {
        let env = self.environment(src, app, opts)?;
        let what = format!("plugin {}", self.name);
        if let Some(init) = &self.init {
            let limits = (opts.timeout.min(budget.time_left()), budget.output_left());
            self.run("init", init, src.dir(), &env, limits).map_err(|e| self.limit_error(e, budget, &what))?;
        }
        let limits = (opts.timeout.min(budget.time_left()), budget.output_left());
        let stdout = self
            .run("generate", &self.generate, src.dir(), &env, limits)
            .map_err(|e| self.limit_error(e, budget, &what))?;
        let text = String::from_utf8(stdout).map_err(|_| self.err("generate printed output that is not UTF-8"))?;
        decode_manifests(&text, &format!("plugin {}", self.name), Dialect::Kubectl, budget)
    }

    /// A run stopped by the render's budget (not the plugin's own timeout) says which limit.
    fn limit_error(&self, e: RunError, budget: &Budget, what: &str) -> Error {
        match e {
            RunError::Failed(e) => e,
            RunError::TimedOut(_) if budget.time_left().is_zero() => budget.exceeded(Limit::Time, what),
            RunError::TimedOut(t) => self.err(format!("timed out after {}s", t.as_secs())),
            RunError::TooMuchOutput => budget.exceeded(Limit::Output, what),
        }
    }

    fn err(&self, message: impl Into<String>) -> Error {
        Error::Plugin { plugin: self.name.clone(), message: message.into() }
    }

    fn environment(&self, src: &LocalSource, app: &AppInfo, opts: &PluginOptions) -> Result<Vec<(String, String)>> {
        let mut env = vec![
            ("ARGOCD_APP_NAME".to_string(), app.name.clone()),
            ("ARGOCD_APP_NAMESPACE".to_string(), app.namespace.clone()),
            ("ARGOCD_APP_REVISION".to_string(), git_revision(src.root())),
            ("ARGOCD_APP_SOURCE_REPO_URL".to_string(), git_origin_url(src.root())),
            ("ARGOCD_APP_SOURCE_PATH".to_string(), {
                let p = src.display_path(src.dir());
                if p.is_empty() { ".".to_string() } else { p }
            }),
            ("KUBE_VERSION".to_string(), app.kube_version.trim_start_matches('v').to_string()),
            ("KUBE_API_VERSIONS".to_string(), app.api_versions.join(",")),
        ];
        for a in &app.helm_args {
            if a.contains('\n') {
                return Err(self.err(format!("cannot pass an argument containing a newline to a plugin: {a:?}")));
            }
        }
        env.push(("KUBECTL_GITOPS_HELM_ARGS".to_string(), app.helm_args.join("\n")));
        env.push(("KUBECTL_GITOPS_RELEASE_NAME".to_string(), app.name.clone()));
        env.push(("KUBECTL_GITOPS_CWD".to_string(), app.cwd.display().to_string()));
        env.push(("KUBECTL_GITOPS_SOURCE_DIR".to_string(), app.source_dir.display().to_string()));
        for (k, v) in &app.build_vars {
            env.retain(|(name, _)| name != k);
            env.push((k.clone(), v.clone()));
        }
        for (k, v) in &opts.env {
            env.push((format!("ARGOCD_ENV_{k}"), v.clone()));
        }
        env.extend(opts.raw_env.iter().cloned());
        Ok(env)
    }

    fn run(
        &self,
        step: &str,
        cmd: &[String],
        dir: &Path,
        env: &[(String, String)],
        (timeout, max_out): (Duration, u64),
    ) -> Result<Vec<u8>, RunError> {
        let mut child = Command::new(&cmd[0])
            .args(&cmd[1..])
            .current_dir(dir)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| self.err(format!("{step}: cannot run {:?}: {e}", cmd[0])))?;
        // Read at most one byte past the limit; the plugin then meets a closed pipe.
        let mut out_pipe = child.stdout.take().expect("piped stdout");
        let mut err_pipe = child.stderr.take().expect("piped stderr");
        let out_thread = std::thread::spawn(move || {
            let mut b = Vec::new();
            let _ = (&mut out_pipe).take(max_out.saturating_add(1)).read_to_end(&mut b);
            b
        });
        let err_thread = std::thread::spawn(move || {
            let mut b = Vec::new();
            let _ = (&mut err_pipe).take(MAX_STDERR).read_to_end(&mut b);
            // Drain the rest so the plugin never blocks on a full pipe.
            let _ = std::io::copy(&mut err_pipe, &mut std::io::sink());
            b
        });
        let start = Instant::now();
        let status = loop {
            match child.try_wait().map_err(|e| self.err(format!("{step}: {e}")))? {
                Some(s) => break s,
                None if start.elapsed() > timeout => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(RunError::TimedOut(timeout));
                }
                None => std::thread::sleep(Duration::from_millis(5)),
            }
        };
        let stdout = out_thread.join().unwrap_or_default();
        let stderr = err_thread.join().unwrap_or_default();
        if stdout.len() as u64 > max_out {
            return Err(RunError::TooMuchOutput);
        }
        if !status.success() {
            let stderr = String::from_utf8_lossy(&stderr);
            return Err(self.err(format!("{step} failed ({status}): {}", stderr.trim_end())).into());
        }
        Ok(stdout)
    }
}

/// Most of a plugin's stderr kept for its error message.
const MAX_STDERR: u64 = 64 << 10;

/// Why running a plugin step failed.
enum RunError {
    Failed(Error),
    TimedOut(Duration),
    /// stdout passed the render's output budget.
    TooMuchOutput,
}

impl From<Error> for RunError {
    fn from(e: Error) -> Self {
        RunError::Failed(e)
    }
}

/// The commit checked out at `root`, or "" outside a git work tree.
fn git_revision(root: &Path) -> String {
    git2::Repository::open(root)
        .ok()
        .and_then(|r| r.head().ok().and_then(|h| h.peel_to_commit().ok()).map(|c| c.id().to_string()))
        .unwrap_or_default()
}

/// The `origin` remote's URL at `root` (credentials redacted), or "".
fn git_origin_url(root: &Path) -> String {
    git2::Repository::open(root)
        .ok()
        .and_then(|r| r.find_remote("origin").ok().and_then(|o| o.url().ok().map(crate::source::git::redact_url)))
        .unwrap_or_default()
}

/// The first plugin (in lookup order) that should render `src`: the forced
/// one by name, else the first whose discovery matches.
pub fn find_plugin(src: &LocalSource, opts: &PluginOptions) -> Result<Option<Plugin>> {
    let dirs = plugin_dirs(opts, src);
    let plugins = load_plugins(&dirs)?;
    if let Some(name) = &opts.force {
        return match plugins.into_iter().find(|p| &p.name == name) {
            Some(p) => Ok(Some(p)),
            None => Err(Error::Plugin {
                plugin: name.clone(),
                message: format!(
                    "not found in {}",
                    dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
                ),
            }),
        };
    }
    Ok(plugins.into_iter().find(|p| p.discovers(src.dir())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_discover() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("p.yaml");
        std::fs::write(
            &f,
            "apiVersion: argoproj.io/v1alpha1\nkind: ConfigManagementPlugin\nmetadata: {name: x}\nspec:\n  discover: {fileName: '*.cue'}\n  generate: {command: [sh, -c], args: ['echo hi']}\n",
        )
        .unwrap();
        let plugins = load_plugins(&[dir.path().to_path_buf()]).unwrap();
        assert_eq!(plugins[0].name, "x");
        assert_eq!(plugins[0].generate, ["sh", "-c", "echo hi"]);
        assert!(!plugins[0].discovers(dir.path()));
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/b.cue"), "").unwrap();
        assert!(!plugins[0].discovers(dir.path()), "fileName globs do not cross directories");
        std::fs::write(dir.path().join("a.cue"), "").unwrap();
        assert!(plugins[0].discovers(dir.path()));
        std::fs::write(&f, "kind: ConfigManagementPlugin\nmetadata: {name: x}\nspec: {}\n").unwrap();
        let err = load_plugins(&[dir.path().to_path_buf()]).unwrap_err().to_string();
        assert!(err.contains("spec.generate.command is required"), "{err}");
    }
}
