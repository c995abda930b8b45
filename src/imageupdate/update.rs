//! One image-update run over Application files, as Argo CD Image Updater
//! runs over Applications with git write-back:
//!
//! 1. each Application with an `image-list` is rendered (its override
//!    files included); the container images it deploys are its live images
//!    (Image Updater reads them from the Application's status);
//! 2. per listed image: the live image of that name (or the
//!    `kustomize.image-name` one; none: skipped unless `force-update`), the
//!    registry's candidates, the strategy's choice; an update when the tag
//!    (digest strategy: the digest) differs;
//! 3. the write-back: the files of the target (override file,
//!    kustomization, Helm values) are computed from the write branch's
//!    current commit; nothing differs: no commit;
//! 4. with `push`: one commit (Image Updater's message, the configured
//!    author) on the write branch (created from the base branch when
//!    named and missing) and a push; a rejected push (someone pushed first)
//!    is retried on the new head, at most [`UpdateSettings::attempts`] times.
//!
//! Nothing is written before every registry answered: an unreachable
//! registry is the app's error, with no commit.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::annotations::{self, ImageSpec, Strategy, Target, UpdateConfig};
use super::reference::ImageRef;
use super::registry::{Registries, RegistrySettings};
use super::tags::choose;
pub use super::targets::FileEdit;
use super::targets::edits;
use crate::error::{Error, Result};
use crate::render::{RenderOptions, Tool};
use crate::source::app::{self, AppSource, Application};
use crate::source::git::{GitOptions, PushOutcome, WriteRepo};
use crate::source::{SourceRequest, resolve};

/// Image Updater's default commit author.
pub const DEFAULT_AUTHOR: (&str, &str) = ("argocd-image-updater", "noreply@argoproj.io");
/// Push attempts before giving up on a repository others keep pushing to.
pub const DEFAULT_ATTEMPTS: usize = 3;

/// Settings of a run.
#[derive(Debug, Clone)]
pub struct UpdateSettings {
    pub registries: RegistrySettings,
    pub git: GitOptions,
    /// Commit and push (otherwise: plan only).
    pub push: bool,
    pub author_name: String,
    pub author_email: String,
    pub attempts: usize,
}

impl Default for UpdateSettings {
    fn default() -> Self {
        UpdateSettings {
            registries: RegistrySettings::default(),
            git: GitOptions::from_env(),
            push: false,
            author_name: DEFAULT_AUTHOR.0.into(),
            author_email: DEFAULT_AUTHOR.1.into(),
            attempts: DEFAULT_ATTEMPTS,
        }
    }
}

/// One image moving to a new version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The alias, or the image name.
    pub image: String,
    /// The image as the image list names it (registry and name).
    pub name: String,
    /// The version before (digest or tag; empty when the image was not live).
    pub old: String,
    pub new: String,
    /// The new reference written back.
    pub reference: String,
}

/// What happened to one app.
#[derive(Debug, Clone, Default)]
pub struct AppReport {
    pub app: String,
    /// The Application's file.
    pub file: String,
    pub changes: Vec<Change>,
    pub edits: Vec<FileEdit>,
    /// Images left alone and why.
    pub skipped: Vec<String>,
    /// The repository written to (redacted) and the branch.
    pub repository: String,
    pub branch: String,
    /// The pushed commit.
    pub commit: Option<String>,
    /// Push attempts made (more than one: someone pushed first).
    pub attempts: usize,
}

/// Run over the Applications in `file` (a file or directory); `names`
/// selects some (empty: every one with an `image-list`). One report per
/// app; an app's failure is its `Err` and the others go on.
pub fn image_update(
    file: &Path,
    names: &[String],
    settings: &UpdateSettings,
) -> Result<Vec<(String, Result<AppReport>)>> {
    let apps = app::load(file)?;
    for n in names {
        if !apps.iter().any(|a| &a.name == n) {
            return Err(Error::Source { path: file.to_path_buf(), message: format!("no Application named {n:?}") });
        }
    }
    let mut registries = Registries::new(settings.registries.clone());
    let mut out = Vec::new();
    for a in apps.into_iter().filter(|a| names.is_empty() || names.contains(&a.name)) {
        let config = match annotations::parse(&a) {
            Ok(Some(c)) => c,
            Ok(None) => continue,
            Err(e) => {
                out.push((a.name.clone(), Err(e)));
                continue;
            }
        };
        let name = a.name.clone();
        out.push((name, update_app(file, a, &config, &mut registries, settings)));
    }
    Ok(out)
}

/// The images a rendered object set runs (containers, init and ephemeral containers, at any depth).
pub fn live_images(objects: &[Value]) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    if matches!(k.as_str(), "containers" | "initContainers" | "ephemeralContainers")
                        && let Value::Array(items) = child
                    {
                        out.extend(items.iter().filter_map(|c| c.get("image")?.as_str().map(String::from)));
                    }
                    walk(child, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    objects.iter().for_each(|o| walk(o, &mut out));
    out.sort();
    out.dedup();
    out
}

/// The source written back to: the one `git-repository` names, else the
/// first with the target's tool block, else the first that is not only a reference.
fn write_source<'a>(a: &'a Application, config: &UpdateConfig) -> Option<(usize, &'a AppSource)> {
    let sources: Vec<&AppSource> = match &a.source {
        Some(s) if a.sources.is_empty() => vec![s],
        _ => a.sources.iter().collect(),
    };
    let rendered: Vec<(usize, &AppSource)> = sources
        .into_iter()
        .filter(|s| !(s.reference.is_some() && s.path.is_empty() && s.chart.is_none()))
        .enumerate()
        .collect();
    if let Some(repo) = &config.write_back.repository
        && let Some(s) = rendered.iter().find(|(_, s)| &s.repo_url == repo)
    {
        return Some(*s);
    }
    let wants = match config.write_back.target {
        Target::Kustomization(_) => Some(true),
        Target::HelmValues(_) => Some(false),
        Target::SourceOverride(_) => None,
    };
    wants
        .and_then(|k| rendered.iter().find(|(_, s)| if k { s.kustomize.is_some() } else { s.helm.is_some() }))
        .or_else(|| rendered.first())
        .copied()
}

fn app_err(a: &Application, message: impl Into<String>) -> Error {
    Error::Source { path: PathBuf::from(&a.file), message: message.into() }
}

fn update_app(
    file: &Path,
    a: Application,
    config: &UpdateConfig,
    registries: &mut Registries,
    settings: &UpdateSettings,
) -> Result<AppReport> {
    let (part_index, source) = write_source(&a, config).ok_or_else(|| app_err(&a, "no source to write to"))?;
    let source = source.clone();
    if source.chart.is_some() && config.write_back.repository.is_none() {
        return Err(app_err(
            &a,
            "the source is a chart from a repository; name the git repository to write to with the git-repository annotation",
        ));
    }
    // 1. What the app deploys now (override files included).
    let request = SourceRequest::App {
        file: file.to_path_buf(),
        name: Some(a.name.clone()),
        revision: None,
        offline: false,
        git: settings.git.clone(),
    };
    let resolved = resolve(&request, RenderOptions::default(), None)?;
    let mut objects = Vec::new();
    for part in &resolved.parts {
        for o in crate::render::render(&part.source, &part.options)? {
            objects.push(o.to_value());
        }
    }
    let live: Vec<ImageRef> = live_images(&objects).iter().filter_map(|s| ImageRef::parse(s).ok()).collect();
    let tool = match &config.write_back.target {
        Target::Kustomization(_) => Tool::Kustomize,
        Target::HelmValues(_) => Tool::Helm,
        Target::SourceOverride(_) => {
            let part =
                resolved.parts.get(part_index).ok_or_else(|| app_err(&a, "the write-back source was not rendered"))?;
            part.options.tool.unwrap_or_else(|| crate::render::detect(part.source.path()))
        }
    };
    if !matches!(tool, Tool::Kustomize | Tool::Helm) {
        return Err(app_err(
            &a,
            format!("a {} source: image updates write back to Kustomize and Helm sources only", tool.name()),
        ));
    }
    // 2. The newest allowed version of each image (every registry asked before anything is written).
    let mut report = AppReport { app: a.name.clone(), file: a.file.clone(), ..AppReport::default() };
    let mut updates: Vec<(ImageSpec, ImageRef)> = Vec::new();
    for spec in &config.images {
        let wanted = spec.kustomize_name.as_ref().into_iter().chain([&spec.image]);
        let current = wanted.clone().find_map(|w| live.iter().find(|l| l.same_image(w)));
        if current.is_none() && !spec.force_update {
            report.skipped.push(format!("{}: not deployed by the app", spec.label()));
            continue;
        }
        let candidates =
            registries.candidates(spec).map_err(|e| app_err(&a, format!("image {}: {e}", spec.label())))?;
        let current_tag = current.and_then(|c| c.tag.as_deref());
        let Some(latest) =
            choose(spec, current_tag, &candidates).map_err(|e| app_err(&a, format!("image {}: {e}", spec.label())))?
        else {
            report.skipped.push(format!("{}: no tag qualifies", spec.label()));
            continue;
        };
        let mut new = spec.image.clone();
        new.tag = Some(latest.tag.clone());
        new.digest = if spec.strategy == Strategy::Digest { latest.digest.clone() } else { None };
        let needs = match current {
            None => true,
            Some(c) if spec.strategy == Strategy::Digest => c.digest != new.digest,
            Some(c) => c.tag != new.tag || (spec.kustomize_name.is_some() && !c.same_image(&spec.image)),
        };
        if !needs {
            report.skipped.push(format!("{}: already at {}", spec.label(), new.version()));
            continue;
        }
        report.changes.push(Change {
            image: spec.label(),
            name: spec.image.full_name(),
            old: current.map(ImageRef::version).unwrap_or_default(),
            new: new.version(),
            reference: new.to_string(),
        });
        updates.push((spec.clone(), new));
    }
    // 3. The write-back, from the write branch's current commit.
    let repo_url = config.write_back.repository.clone().unwrap_or_else(|| source.repo_url.clone());
    let repo_url = local_repo(&repo_url, file);
    if updates.is_empty() {
        // Nothing to write: no git traffic.
        report.repository = crate::source::git::RepoUrl::parse(&repo_url).map(|u| u.redacted()).unwrap_or_default();
        return Ok(report);
    }
    let scratch = tempfile::tempdir().map_err(|e| Error::io(Path::new("<temp>"), e))?;
    let repo = WriteRepo::new(&repo_url, scratch.path(), &settings.git)?;
    report.repository = repo.display();
    let base = match config.write_back.base_branch.clone().filter(|b| !b.is_empty()) {
        Some(b) => b,
        None if matches!(source.target_revision.as_str(), "" | "HEAD") => repo.default_branch()?,
        None => source.target_revision.clone(),
    };
    let branch = match &config.write_back.write_branch {
        Some(t) => branch_name(t, &report.changes)?,
        None => base.clone(),
    };
    report.branch = branch.clone();
    let message = commit_message(&a.name, &report.changes);
    for attempt in 1..=settings.attempts.max(1) {
        report.attempts = attempt;
        let head = match repo.fetch(&branch)? {
            Some(h) => h,
            None => repo.fetch(&base)?.ok_or_else(|| Error::Git {
                repo: repo.display(),
                message: format!("no branch {base:?} to write to"),
            })?,
        };
        let edits = edits(&a, &source, config, tool, &updates, |p| {
            repo.read(head, p).map(|b| b.map(|b| String::from_utf8_lossy(&b).into_owned()))
        })?;
        report.edits = edits.into_iter().filter(|e| e.before.as_deref() != Some(e.after.as_str())).collect();
        if report.edits.is_empty() || !settings.push {
            return Ok(report);
        }
        let files: Vec<(String, Vec<u8>)> =
            report.edits.iter().map(|e| (e.path.clone(), e.after.clone().into_bytes())).collect();
        let commit = repo.commit(head, &files, (&settings.author_name, &settings.author_email), &message)?;
        match repo.push(commit, &branch)? {
            PushOutcome::Pushed => {
                report.commit = Some(commit.to_string());
                return Ok(report);
            }
            PushOutcome::Rejected(why) => {
                tracing::info!("{}: push to {branch} rejected ({why}); retrying on the new head", a.name);
            }
        }
    }
    Err(Error::Git {
        repo: repo.display(),
        message: format!(
            "push to {branch} rejected {} times (others keep pushing); nothing written",
            settings.attempts.max(1)
        ),
    })
}

/// A relative local repository is relative to the Application file's directory (as for rendering).
fn local_repo(repo: &str, file: &Path) -> String {
    match crate::source::git::RepoUrl::parse(repo) {
        Ok(u) if u.local_path.as_ref().is_some_and(|p| p.is_relative()) => {
            let base = if file.is_dir() { file } else { file.parent().unwrap_or(Path::new(".")) };
            base.join(repo).to_string_lossy().into_owned()
        }
        _ => repo.to_string(),
    }
}

/// Image Updater's default commit message.
pub fn commit_message(app: &str, changes: &[Change]) -> String {
    let mut m = format!("build: automatic update of {app}\n\n");
    for c in changes {
        let name = ImageRef::parse(&c.name).map(|r| r.name).unwrap_or_else(|_| c.name.clone());
        m.push_str(&format!("updates image {name} tag '{}' to '{}'\n", c.old, c.new));
    }
    m
}

/// The write branch from its template (Go template syntax): `.SHA256` of
/// the changes and `.Images` (`Name`, `Alias`, `OldTag`, `NewTag`); at most 255 characters.
pub fn branch_name(template: &str, changes: &[Change]) -> Result<String> {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    let mut images = Vec::new();
    for c in changes {
        let name = ImageRef::parse(&c.name).map(|r| r.name).unwrap_or_else(|_| c.name.clone());
        hasher.update(format!("{name}-{}-{},", c.old, c.new).as_bytes());
        images.push(serde_json::json!({"Name": name, "Alias": c.image, "OldTag": c.old, "NewTag": c.new}));
    }
    let sha: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let mut set = crate::gotmpl::Templates::new();
    let bad = |e: crate::gotmpl::Error| Error::Usage(format!("git-branch template {template:?}: {}", e.message()));
    set.parse("branch", template).map_err(bad)?;
    let dot = crate::gotmpl::Value::from_json(&serde_json::json!({"SHA256": sha, "Images": images}));
    let mut name = set.execute("branch", &dot).map_err(bad)?;
    if name.len() > 255 {
        let mut cut = 255;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name.truncate(cut);
    }
    if name.trim().is_empty() || git2::Branch::name_is_valid(&name).ok() != Some(true) {
        return Err(Error::Usage(format!("git-branch template {template:?} gives {name:?}, not a branch name")));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(old: &str, new: &str) -> Change {
        Change {
            image: "web".into(),
            name: "127.0.0.1:5000/team/web".into(),
            old: old.into(),
            new: new.into(),
            reference: format!("127.0.0.1:5000/team/web:{new}"),
        }
    }

    #[test]
    fn commit_messages_and_branch_names_as_image_updater_makes_them() {
        assert_eq!(
            commit_message("shop", &[change("1.0", "1.1"), change("", "2.0")]),
            "build: automatic update of shop\n\nupdates image team/web tag '1.0' to '1.1'\nupdates image team/web tag '' to '2.0'\n"
        );
        let b = branch_name("image-updater-{{.SHA256}}", &[change("1.0", "1.1")]).unwrap();
        use sha2::Digest;
        let want: String = sha2::Sha256::digest(b"team/web-1.0-1.1,").iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(b, format!("image-updater-{want}"));
        let b = branch_name("update/{{range .Images}}{{.Alias}}-{{.NewTag}}{{end}}", &[change("1.0", "1.1")]).unwrap();
        assert_eq!(b, "update/web-1.1");
        assert!(branch_name("{{.Nope", &[]).is_err());
        assert!(branch_name("a..b", &[]).is_err());
        assert_eq!(branch_name(&"x".repeat(300), &[]).unwrap().len(), 255);
    }

    #[test]
    fn live_images_from_pod_templates() {
        let objs = vec![
            serde_json::json!({"kind": "Deployment", "spec": {"template": {"spec": {
            "initContainers": [{"image": "busybox:1"}], "containers": [{"image": "web:1"}, {"image": "web:1"}]}}}}),
            serde_json::json!({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"image": "job:2"}]}}}}}}),
        ];
        assert_eq!(live_images(&objs), vec!["busybox:1", "job:2", "web:1"]);
    }
}
