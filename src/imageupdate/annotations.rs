//! Argo CD Image Updater's annotations on an Application, read as it reads
//! them (`argocd-image-updater.argoproj.io/...`):
//!
//! - `image-list`: comma-separated `[alias=]image[:constraint]`;
//! - per image, under `<alias>.` (a `/` in the alias becomes `_`), falling
//!   back to the app-wide key without the alias for `update-strategy`,
//!   `allow-tags` (then the old `tag-match`), `ignore-tags`, `pull-secret`
//!   and `force-update`; `platforms`, `helm.image-name`, `helm.image-tag`,
//!   `helm.image-spec` and `kustomize.image-name` only per image;
//! - app-wide `write-back-method`, `write-back-target`, `git-branch`,
//!   `git-repository`.
//!
//! Where Image Updater logs a warning and carries on with a guess (an
//! unknown strategy becomes `semver`, a bad `allow-tags` matches nothing, a
//! bad platform matches nothing), this reader stops with an error naming
//! the Application file and the annotation.

use regex::Regex;

use super::reference::ImageRef;
use crate::error::{Error, Result};
use crate::source::app::Application;

/// The annotations' prefix.
pub const PREFIX: &str = "argocd-image-updater.argoproj.io";

/// How the newest tag is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// The highest semantic version (within the constraint).
    Semver,
    /// The most recently built image (the config blob's `created`).
    NewestBuild,
    /// The last tag in lexical order.
    Alphabetical,
    /// The current digest of the tag named by the constraint.
    Digest,
}

impl Strategy {
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Semver => "semver",
            Strategy::NewestBuild => "newest-build",
            Strategy::Alphabetical => "alphabetical",
            Strategy::Digest => "digest",
        }
    }

    /// Parse a strategy name, old names included (`latest`, `name`).
    pub fn parse(s: &str) -> std::result::Result<Strategy, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "semver" => Ok(Strategy::Semver),
            "newest-build" | "latest" => Ok(Strategy::NewestBuild),
            "alphabetical" | "name" => Ok(Strategy::Alphabetical),
            "digest" => Ok(Strategy::Digest),
            other => Err(format!(
                "unknown update strategy {other:?} (semver, newest-build, alphabetical, digest; old names: latest, name)"
            )),
        }
    }

    /// Does choosing need each tag's manifest and config?
    pub fn needs_metadata(self) -> bool {
        matches!(self, Strategy::NewestBuild | Strategy::Digest)
    }
}

/// Which tags are considered.
#[derive(Debug, Clone)]
pub enum AllowTags {
    Any,
    /// `regexp:<re>`: tags the expression matches (anywhere in the tag, as Go's `MatchString`).
    Regexp(Regex),
}

/// One platform: `os/arch[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub arch: String,
    pub variant: Option<String>,
}

impl Platform {
    pub fn parse(s: &str) -> std::result::Result<Platform, String> {
        let parts: Vec<&str> = s.trim().splitn(3, '/').collect();
        match parts.as_slice() {
            [os, arch, rest @ ..] if !os.is_empty() && !arch.is_empty() => Ok(Platform {
                os: os.to_string(),
                arch: arch.to_string(),
                variant: rest.first().filter(|v| !v.is_empty()).map(|v| v.to_string()),
            }),
            _ => Err(format!("{s:?} is not a platform (os/arch or os/arch/variant)")),
        }
    }

    /// Linux on this machine's architecture, in Go's names (what Image
    /// Updater restricts to when no `platforms` annotation is set).
    pub fn default_linux() -> Platform {
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            other => other,
        };
        Platform { os: "linux".into(), arch: arch.into(), variant: None }
    }

    /// Is `(os, arch, variant)` one of `wanted`? An empty list wants every
    /// platform; a variant the list does not name matches its `os/arch`.
    pub fn wanted(wanted: &[Platform], os: &str, arch: &str, variant: Option<&str>) -> bool {
        let variant = variant.filter(|v| !v.is_empty());
        wanted.is_empty()
            || wanted.iter().any(|p| {
                p.os == os
                    && p.arch == arch
                    && (p.variant.as_deref() == variant || (variant.is_some() && p.variant.is_none()))
            })
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.arch)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// Where a registry's credentials come from (`pull-secret`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullSecret {
    /// `env:VAR`: `user:password` in an environment variable.
    Env(String),
    /// `pullsecret:namespace/name`: a Docker config Secret in the cluster.
    PullSecret { namespace: String, name: String },
    /// `secret:namespace/name#field`: `user:password` in a Secret's field.
    Secret { namespace: String, name: String, field: String },
    /// `ext:/path/to/script`: a script printing `user:password`.
    Ext(String),
}

impl PullSecret {
    pub fn parse(s: &str) -> std::result::Result<PullSecret, String> {
        let bad = || {
            format!(
                "{s:?} is not a credential source (env:VAR, pullsecret:namespace/name, secret:namespace/name#field, ext:/path)"
            )
        };
        let (kind, rest) = s.trim().split_once(':').ok_or_else(bad)?;
        let ns_name = |r: &str| -> std::result::Result<(String, String), String> {
            match r.split_once('/') {
                Some((ns, n)) if !ns.is_empty() && !n.is_empty() && !n.contains('/') => {
                    Ok((ns.to_string(), n.to_string()))
                }
                _ => Err(bad()),
            }
        };
        match kind {
            "env" if !rest.is_empty() => Ok(PullSecret::Env(rest.to_string())),
            "pullsecret" => ns_name(rest).map(|(namespace, name)| PullSecret::PullSecret { namespace, name }),
            "secret" => {
                let (r, field) = rest.split_once('#').ok_or_else(bad)?;
                let (namespace, name) = ns_name(r)?;
                if field.is_empty() {
                    return Err(bad());
                }
                Ok(PullSecret::Secret { namespace, name, field: field.to_string() })
            }
            "ext" if rest.starts_with('/') => Ok(PullSecret::Ext(rest.to_string())),
            _ => Err(bad()),
        }
    }
}

/// Which Helm parameters hold the image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HelmNames {
    pub name: Option<String>,
    pub tag: Option<String>,
    pub spec: Option<String>,
}

/// One entry of `image-list` with its options.
#[derive(Debug, Clone)]
pub struct ImageSpec {
    pub alias: Option<String>,
    /// The image; its `tag` is the constraint as written.
    pub image: ImageRef,
    pub strategy: Strategy,
    pub allow: AllowTags,
    /// `ignore-tags` globs (Go's `filepath.Match`).
    pub ignore: Vec<String>,
    /// `platforms` (none given: the default Linux platform).
    pub platforms: Vec<Platform>,
    pub pull_secret: Option<PullSecret>,
    pub force_update: bool,
    pub helm: HelmNames,
    /// `kustomize.image-name`: the image name the kustomization uses.
    pub kustomize_name: Option<ImageRef>,
}

impl ImageSpec {
    /// The version constraint (the tag part of the list entry).
    pub fn constraint(&self) -> Option<&str> {
        self.image.tag.as_deref().filter(|c| !c.is_empty())
    }

    /// The alias, or the image name (how Image Updater names an image without one).
    pub fn label(&self) -> String {
        self.alias.clone().unwrap_or_else(|| self.image.name.clone())
    }
}

/// `write-back-target`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `.argocd-source-<app>.yaml` in the source directory, or the file the
    /// annotation names (relative to the repository root).
    SourceOverride(Option<String>),
    /// `kustomization[:dir]`: the kustomization's `images` (dir relative to
    /// the source path; `/dir` from the repository root).
    Kustomization(Option<String>),
    /// `helmvalues[:file]`: a Helm values file (default `values.yaml`).
    HelmValues(Option<String>),
}

/// App-wide write-back settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteBack {
    pub target: Target,
    /// `git-branch` before `:`: the branch to check out (default: the source's targetRevision).
    pub base_branch: Option<String>,
    /// `git-branch` after `:`: the branch to push, a template.
    pub write_branch: Option<String>,
    /// `git-repository`: the repository to write to (default: the source's repoURL).
    pub repository: Option<String>,
}

/// Everything the annotations of one Application ask for.
#[derive(Debug, Clone)]
pub struct UpdateConfig {
    pub images: Vec<ImageSpec>,
    pub write_back: WriteBack,
}

/// The full annotation key of `option` (`image-list`, ...).
pub fn key(option: &str) -> String {
    format!("{PREFIX}/{option}")
}

struct Reader<'a> {
    app: &'a Application,
}

impl Reader<'_> {
    fn err(&self, key: &str, message: impl Into<String>) -> Error {
        let (file, line) = match self.app.file.rsplit_once(':') {
            Some((f, l)) if l.parse::<usize>().is_ok() => (f.to_string(), l.parse().unwrap_or(1)),
            _ => (self.app.file.clone(), 1),
        };
        Error::App { file, line, field: format!("metadata.annotations[{key:?}]"), message: message.into() }
    }

    fn get(&self, key: &str) -> Option<(&str, String)> {
        self.app.annotations.get(key).map(|v| (v.as_str(), key.to_string()))
    }

    /// The per-image key, else (when `app_wide`) the app-wide one.
    fn option(&self, alias: &str, option: &str, app_wide: bool) -> Option<(&str, String)> {
        self.get(&key(&format!("{}.{option}", alias.replace('/', "_"))))
            .or_else(|| if app_wide { self.get(&key(option)) } else { None })
    }
}

/// The update configuration of `app`; `None` without an `image-list`.
pub fn parse(app: &Application) -> Result<Option<UpdateConfig>> {
    let r = Reader { app };
    let list_key = key("image-list");
    let Some((list, _)) = r.get(&list_key) else { return Ok(None) };
    let mut images = Vec::new();
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        // `alias=image`; an `=` after a `:` belongs to a constraint (`>=1.0`).
        let (alias, reference) = match entry.split_once('=') {
            Some((a, i)) if !a.contains(':') => (Some(a.trim().to_string()), i),
            _ => (None, entry),
        };
        let image = ImageRef::parse(reference).map_err(|e| {
            r.err(&list_key, format!("{e} (entries are [alias=]image[:constraint], separated by commas; join semver constraints with spaces, not commas)"))
        })?;
        let a = alias.clone().unwrap_or_default();
        let strategy = match r.option(&a, "update-strategy", true) {
            Some((v, k)) => Strategy::parse(v).map_err(|e| r.err(&k, e))?,
            None => Strategy::Semver,
        };
        let allow = match r.option(&a, "allow-tags", true).or_else(|| r.option(&a, "tag-match", false)) {
            None => AllowTags::Any,
            Some((v, k)) if v.trim().eq_ignore_ascii_case("any") => {
                let _ = k;
                AllowTags::Any
            }
            Some((v, k)) => match v.split_once(':') {
                Some((kind, re)) if kind.eq_ignore_ascii_case("regexp") => {
                    AllowTags::Regexp(Regex::new(re).map_err(|e| r.err(&k, format!("invalid regexp {re:?}: {e}")))?)
                }
                _ => return Err(r.err(&k, format!("{v:?}: expected regexp:<expression> or any"))),
            },
        };
        let ignore = r
            .option(&a, "ignore-tags", true)
            .map(|(v, _)| v.split(',').map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect())
            .unwrap_or_default();
        let platforms = match r.option(&a, "platforms", false) {
            Some((v, k)) => v
                .split(',')
                .filter(|p| !p.trim().is_empty())
                .map(|p| Platform::parse(p).map_err(|e| r.err(&k, e)))
                .collect::<Result<Vec<_>>>()?,
            None => vec![Platform::default_linux()],
        };
        let pull_secret = match r.option(&a, "pull-secret", true) {
            Some((v, k)) => Some(PullSecret::parse(v).map_err(|e| r.err(&k, e))?),
            None => None,
        };
        let force_update = r.option(&a, "force-update", true).is_some_and(|(v, _)| v == "true");
        let text =
            |option: &str| r.option(&a, option, false).map(|(v, _)| v.trim().to_string()).filter(|v| !v.is_empty());
        let helm =
            HelmNames { name: text("helm.image-name"), tag: text("helm.image-tag"), spec: text("helm.image-spec") };
        let kustomize_name = match r.option(&a, "kustomize.image-name", false) {
            Some((v, k)) => Some(ImageRef::parse(v).map_err(|e| r.err(&k, e))?),
            None => None,
        };
        let spec = ImageSpec {
            alias,
            image,
            strategy,
            allow,
            ignore,
            platforms,
            pull_secret,
            force_update,
            helm,
            kustomize_name,
        };
        match (strategy, spec.constraint()) {
            (Strategy::Digest, None) => {
                return Err(
                    r.err(&list_key, format!("{entry:?}: the digest strategy needs the tag to follow (image:tag)"))
                );
            }
            (Strategy::Semver, Some(c)) => {
                crate::semver::satisfies(c, "0.0.0")
                    .map_err(|e| r.err(&list_key, format!("{entry:?}: invalid semver constraint: {e}")))?;
            }
            _ => {}
        }
        images.push(spec);
    }
    if images.is_empty() {
        return Err(r.err(&list_key, "no image listed"));
    }
    Ok(Some(UpdateConfig { images, write_back: write_back(&r)? }))
}

fn write_back(r: &Reader<'_>) -> Result<WriteBack> {
    let method_key = key("write-back-method");
    match r.get(&method_key).map(|(v, _)| v.trim()) {
        None | Some("argocd") => {
            return Err(r.err(
                &method_key,
                "the argocd write-back method changes the Application in an Argo CD API server, which this tool does not use; set it to git",
            ));
        }
        Some(m) => {
            let (method, creds) = m.split_once(':').unwrap_or((m, ""));
            if method.trim() != "git" {
                return Err(r.err(&method_key, format!("unknown write-back method {m:?} (git or argocd)")));
            }
            if !creds.is_empty() && creds != "repocreds" {
                tracing::warn!(
                    "{}: {method_key}: credentials {creds:?} are not read; git credentials come from the git source settings",
                    r.app.file
                );
            }
        }
    }
    let target = match r.get(&key("write-back-target")).map(|(v, _)| v.trim().to_string()) {
        None => Target::SourceOverride(None),
        Some(t) if t == "kustomization" => Target::Kustomization(None),
        Some(t) if t == "helmvalues" => Target::HelmValues(None),
        Some(t) => match t.split_once(':') {
            Some(("kustomization", dir)) => Target::Kustomization(Some(dir.to_string())),
            Some(("helmvalues", file)) => Target::HelmValues(Some(file.to_string())),
            _ => Target::SourceOverride(Some(t)),
        },
    };
    let branch_key = key("git-branch");
    let (base_branch, write_branch) = match r.get(&branch_key) {
        None => (None, None),
        Some((v, k)) => {
            let parts: Vec<&str> = v.trim().split(':').collect();
            match parts.as_slice() {
                [base] => (Some(base.to_string()).filter(|b| !b.is_empty()), None),
                [base, write] => (
                    Some(base.to_string()).filter(|b| !b.is_empty()),
                    Some(write.to_string()).filter(|w| !w.is_empty()),
                ),
                _ => return Err(r.err(&k, format!("{v:?}: expected base[:target]"))),
            }
        }
    };
    let repository = r.get(&key("git-repository")).map(|(v, _)| v.trim().to_string()).filter(|v| !v.is_empty());
    Ok(WriteBack { target, base_branch, write_branch, repository })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(annotations: &[(&str, &str)]) -> Application {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("app.yaml");
        std::fs::write(
            &f,
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: web}\nspec:\n  source: {repoURL: r, path: p}\n  destination: {namespace: d}\n",
        )
        .unwrap();
        let mut a = crate::source::app::load(&f).unwrap().remove(0);
        a.file = "<test>:1".into();
        a.annotations = annotations.iter().map(|(k, v)| (key(k), v.to_string())).collect();
        a
    }

    fn parse_ok(annotations: &[(&str, &str)]) -> UpdateConfig {
        parse(&app(annotations)).unwrap().unwrap()
    }

    fn parse_err(annotations: &[(&str, &str)]) -> String {
        parse(&app(annotations)).unwrap_err().to_string()
    }

    #[test]
    fn image_list_aliases_and_constraints() {
        let c = parse_ok(&[
            ("image-list", "web=127.0.0.1:5000/team/web:~1.2, nginx:1.x-0 ,redis"),
            ("write-back-method", "git"),
        ]);
        assert_eq!(c.images.len(), 3);
        assert_eq!(c.images[0].alias.as_deref(), Some("web"));
        assert_eq!(c.images[0].constraint(), Some("~1.2"));
        assert_eq!(c.images[1].label(), "nginx");
        assert_eq!(c.images[2].constraint(), None);
        assert!(c.images.iter().all(|i| i.strategy == Strategy::Semver));
        assert_eq!(c.write_back.target, Target::SourceOverride(None));
        assert!(parse(&app(&[])).unwrap().is_none());
    }

    #[test]
    fn per_alias_options_fall_back_to_app_wide_ones() {
        let c = parse_ok(&[
            ("image-list", "a=x/a, b/c=x/b:stable"),
            ("write-back-method", "git:repocreds"),
            ("a.update-strategy", "latest"),
            ("b_c.update-strategy", "digest"),
            ("allow-tags", "regexp:^v[0-9]+$"),
            ("b_c.allow-tags", "any"),
            ("ignore-tags", "*-rc*, latest"),
            ("a.platforms", "linux/arm64/v8, linux/amd64"),
            ("force-update", "true"),
            ("a.helm.image-name", "web.image.repository"),
            ("a.helm.image-tag", "web.image.tag"),
            ("b_c.helm.image-spec", "b.image"),
            ("b_c.kustomize.image-name", "docker.io/x/b"),
            ("b_c.pull-secret", "env:REG_CREDS"),
            ("write-back-target", "kustomization:../base"),
            ("git-branch", "main:image-updater-{{.SHA256}}"),
            ("git-repository", "https://git.example/config.git"),
        ]);
        let (a, b) = (&c.images[0], &c.images[1]);
        assert_eq!((a.strategy, b.strategy), (Strategy::NewestBuild, Strategy::Digest));
        assert!(matches!(&a.allow, AllowTags::Regexp(re) if re.is_match("v12") && !re.is_match("v1.2")));
        assert!(matches!(b.allow, AllowTags::Any));
        assert_eq!(a.ignore, vec!["*-rc*", "latest"]);
        assert_eq!(a.platforms[0], Platform { os: "linux".into(), arch: "arm64".into(), variant: Some("v8".into()) });
        assert_eq!(b.platforms, vec![Platform::default_linux()]);
        assert!(a.force_update && b.force_update);
        assert_eq!(a.helm.name.as_deref(), Some("web.image.repository"));
        assert_eq!(b.helm.spec.as_deref(), Some("b.image"));
        assert_eq!(b.kustomize_name.as_ref().unwrap().name, "x/b");
        assert_eq!(b.pull_secret, Some(PullSecret::Env("REG_CREDS".into())));
        assert_eq!(a.pull_secret, None);
        assert_eq!(c.write_back.target, Target::Kustomization(Some("../base".into())));
        assert_eq!(c.write_back.base_branch.as_deref(), Some("main"));
        assert_eq!(c.write_back.write_branch.as_deref(), Some("image-updater-{{.SHA256}}"));
        assert_eq!(c.write_back.repository.as_deref(), Some("https://git.example/config.git"));
        // The old tag-match, per image only.
        let c = parse_ok(&[("image-list", "a=x/a"), ("write-back-method", "git"), ("a.tag-match", "regexp:^1")]);
        assert!(matches!(c.images[0].allow, AllowTags::Regexp(_)));
        let c = parse_ok(&[("image-list", "a=x/a"), ("write-back-method", "git"), ("write-back-target", "helmvalues")]);
        assert_eq!(c.write_back.target, Target::HelmValues(None));
        let c = parse_ok(&[
            ("image-list", "a=x/a"),
            ("write-back-method", "git"),
            ("write-back-target", "helmvalues:/env/v.yaml"),
        ]);
        assert_eq!(c.write_back.target, Target::HelmValues(Some("/env/v.yaml".into())));
    }

    #[test]
    fn errors_name_the_file_and_annotation() {
        let git = ("write-back-method", "git");
        let e = parse_err(&[("image-list", "a=x/a"), git, ("a.update-strategy", "newest")]);
        assert!(
            e.contains("argocd-image-updater.argoproj.io/a.update-strategy") && e.contains("unknown update strategy"),
            "{e}"
        );
        assert!(e.starts_with("<test>:1: metadata.annotations"), "{e}");
        let e = parse_err(&[("image-list", "x/a:>=1.0,<2.0"), git]);
        assert!(e.contains("image-list") && e.contains("spaces"), "{e}");
        let e = parse_err(&[("image-list", "x/a:>= x.y"), git]);
        assert!(e.contains("invalid semver constraint"), "{e}");
        let e = parse_err(&[("image-list", "a=x/a"), git, ("a.update-strategy", "digest")]);
        assert!(e.contains("digest strategy needs"), "{e}");
        let e = parse_err(&[("image-list", "a=x/a"), git, ("allow-tags", "glob:*")]);
        assert!(e.contains("allow-tags") && e.contains("regexp:"), "{e}");
        let e = parse_err(&[("image-list", "a=x/a"), git, ("allow-tags", "regexp:(")]);
        assert!(e.contains("invalid regexp"), "{e}");
        let e = parse_err(&[("image-list", "a=x/a"), git, ("a.platforms", "linux")]);
        assert!(e.contains("a.platforms") && e.contains("os/arch"), "{e}");
        let e = parse_err(&[("image-list", "a=x/a"), git, ("pull-secret", "pullsecret:nons")]);
        assert!(e.contains("pull-secret"), "{e}");
        let e = parse_err(&[("image-list", "a=x/a")]);
        assert!(e.contains("write-back-method") && e.contains("set it to git"), "{e}");
        let e = parse_err(&[("image-list", "a=x/a"), ("write-back-method", "argocd")]);
        assert!(e.contains("Argo CD API server"), "{e}");
        let e = parse_err(&[("image-list", "a=x/a"), git, ("git-branch", "a:b:c")]);
        assert!(e.contains("git-branch"), "{e}");
        let e = parse_err(&[("image-list", " , "), git]);
        assert!(e.contains("no image listed"), "{e}");
    }

    #[test]
    fn platforms_match_as_image_updater_matches_them() {
        let want = vec![Platform::parse("linux/arm64").unwrap(), Platform::parse("linux/arm/v7").unwrap()];
        assert!(Platform::wanted(&want, "linux", "arm64", None));
        assert!(Platform::wanted(&want, "linux", "arm64", Some("v8")), "a variant matches its os/arch");
        assert!(Platform::wanted(&want, "linux", "arm", Some("v7")));
        assert!(!Platform::wanted(&want, "linux", "arm", Some("v6")));
        assert!(!Platform::wanted(&want, "linux", "amd64", None));
        assert!(Platform::wanted(&[], "windows", "amd64", None));
    }

    #[test]
    fn pull_secret_forms() {
        assert_eq!(
            PullSecret::parse("secret:ns/creds#token").unwrap(),
            PullSecret::Secret { namespace: "ns".into(), name: "creds".into(), field: "token".into() }
        );
        assert_eq!(
            PullSecret::parse("pullsecret:ns/regcred").unwrap(),
            PullSecret::PullSecret { namespace: "ns".into(), name: "regcred".into() }
        );
        assert_eq!(PullSecret::parse("ext:/bin/creds").unwrap(), PullSecret::Ext("/bin/creds".into()));
        assert!(PullSecret::parse("secret:ns/creds").is_err());
        assert!(PullSecret::parse("env:").is_err());
    }
}
