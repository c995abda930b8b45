//! Many apps from the command line: `status`, `diff` and `sync` with
//! `-f DIR` and APP names or `--all`. The flags become a
//! [`FleetRequest`]; [`crate::fleet`] selects, renders and runs every app;
//! [`super::fleet_report`] prints the outcomes.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use super::fleet_report as report;
use super::fleet_ui::{Console, FleetUi};
use crate::cli::{ClusterArgs, DiffArgs, SourceArgs, StatusArgs, SyncArgs};
use crate::error::{Error, Result};
use crate::fleet::{self, FleetEvents, FleetRequest, Verdict, select, verdict};

/// Move APP words into `apps` and say whether this is a many-app run (APP
/// names or `--all`). With an Application source (`-f/--app`), the
/// positional SOURCE word is the first APP name; without one, APP names
/// and `--all` are errors.
pub fn take_app_names(source: &mut SourceArgs, apps: &mut Vec<String>, all: bool) -> Result<bool> {
    if source.remote.app.is_none() {
        if all || !apps.is_empty() {
            return Err(Error::Usage(
                "APP names and --all need -f/--app FILE_OR_DIR: the Argo CD Applications to choose from".into(),
            ));
        }
        return Ok(false);
    }
    if source.source != Path::new(".") {
        apps.insert(0, source.source.display().to_string());
        source.source = PathBuf::from(".");
    }
    if all && !apps.is_empty() {
        return Err(Error::Usage(format!("give APP names ({}) or --all, not both", apps.join(", "))));
    }
    let many = all || !apps.is_empty();
    if many && let Some(name) = &source.remote.app_name {
        return Err(Error::Usage(format!(
            "--app-name {name} chooses one Application; with APP names or --all leave it out"
        )));
    }
    Ok(many)
}

/// Progress lines on stderr, prefixed with the app's name.
struct Stderr;

impl FleetEvents for Stderr {
    fn note(&self, app: &str, line: &str) {
        eprintln!("{app}: {line}");
    }
}

/// The request of a many-app command line; flags that each app's
/// Application decides for itself are refused.
fn request(
    command: &str,
    source: &SourceArgs,
    cluster: &ClusterArgs,
    apps: &[String],
    all: bool,
    name: Option<&str>,
) -> Result<FleetRequest> {
    let refuse = |flag: &str| {
        Error::Usage(format!(
            "{command} with APP names or --all: {flag} cannot be given (each app is named by its Application and goes to its destination's context and namespace)"
        ))
    };
    if name.is_some() {
        return Err(refuse("--name"));
    }
    if cluster.context.is_some() {
        return Err(refuse("--context"));
    }
    if cluster.namespace.is_some() {
        return Err(refuse("-n/--namespace"));
    }
    let file = source.remote.app.clone().expect("take_app_names checked the Application source");
    Ok(FleetRequest {
        file,
        apps: apps.to_vec(),
        all,
        source: super::convert::source_spec(source, None)?,
        kubeconfig: cluster.kubeconfig.clone(),
        concurrency: cluster.concurrency,
    })
}

/// Shared objects of each app, said once each.
fn warn_shared(outcomes: &[fleet::Outcome<crate::usecase::DiffReport>]) {
    for o in outcomes {
        if let fleet::Outcome::Done(d) = o {
            super::run::warn_shared(&d.shared);
        }
    }
}

/// `status APP... -f DIR` / `status --all -f DIR`.
pub fn status(args: StatusArgs) -> Result<i32> {
    let req = request("status", &args.source, &args.cluster, &args.apps, args.all, args.name.as_deref())?;
    let members = fleet::prepare(&req, &Stderr)?;
    let (outcomes, down) = fleet::status(&req, &members, args.applyset_parent, &Stderr);
    report::status(&members, &outcomes, &down, args.output)?;
    Ok(select::exit_code(outcomes.iter().map(|o| verdict(o, |_| Verdict::Clean))))
}

/// `diff APP... -f DIR` / `diff --all -f DIR`.
pub fn diff(args: DiffArgs, color: bool) -> Result<i32> {
    let req = request("diff", &args.source, &args.cluster, &args.apps, args.all, args.name.as_deref())?;
    let members = fleet::prepare(&req, &Stderr)?;
    let (outcomes, down) = fleet::diff(&req, &members, args.applyset_parent, args.prune, &Stderr);
    warn_shared(&outcomes);
    let external = report::diff(&members, &outcomes, &down, args.output, color)?;
    let verdicts = outcomes.iter().zip(&external).map(|(o, ext_failed)| {
        if *ext_failed {
            return Verdict::Failed;
        }
        verdict(o, |d| if d.changed() > 0 { Verdict::Differs } else { Verdict::Clean })
    });
    Ok(select::exit_code(verdicts.collect::<Vec<_>>()))
}

/// `sync APP... -f DIR` / `sync --all -f DIR`.
pub fn sync(args: SyncArgs) -> Result<i32> {
    let req = request("sync", &args.source, &args.cluster, &args.apps, args.all, args.name.as_deref())?;
    let members = fleet::prepare(&req, &Stderr)?;
    let console = Console::new(std::io::stdin().is_terminal() && std::io::stderr().is_terminal());
    let yes = args.yes;
    let (outcomes, down) = fleet::sync(
        &req,
        &members,
        &super::convert::sync_request(&args),
        |m| Box::new(FleetUi { app: &m.app.name, context: m.context_label(), yes, console: &console }),
        &Stderr,
    );
    report::sync(&members, &outcomes, &down, args.output)?;
    Ok(select::exit_code(
        outcomes.iter().map(|o| verdict(o, |r| if r.error.is_some() { Verdict::Failed } else { Verdict::Clean })),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(argv: &[&str]) -> crate::cli::StatusArgs {
        match crate::cli::Cli::try_parse_from(argv).unwrap().command {
            crate::cli::Command::Status(a) => a,
            _ => unreachable!(),
        }
    }

    #[test]
    fn app_words_and_all() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let mut a = parse(&["kubectl-gitops", "status", "web", "api", "--app", d]);
        assert!(take_app_names(&mut a.source, &mut a.apps, a.all).unwrap());
        assert_eq!(a.apps, ["web", "api"]);
        assert_eq!(a.source.source, Path::new("."));

        let mut a = parse(&["kubectl-gitops", "status", "--all", "--app", d]);
        assert!(take_app_names(&mut a.source, &mut a.apps, a.all).unwrap());

        // One Application, no names: the single-app command.
        let mut a = parse(&["kubectl-gitops", "status", "--app", d]);
        assert!(!take_app_names(&mut a.source, &mut a.apps, a.all).unwrap());

        let mut a = parse(&["kubectl-gitops", "status", "web", "--all", "--app", d]);
        let err = take_app_names(&mut a.source, &mut a.apps, a.all).unwrap_err().to_string();
        assert!(err.contains("or --all, not both"), "{err}");

        let mut a = parse(&["kubectl-gitops", "status", "--all"]);
        let err = take_app_names(&mut a.source, &mut a.apps, a.all).unwrap_err().to_string();
        assert!(err.contains("need -f/--app"), "{err}");

        let mut a = parse(&["kubectl-gitops", "status", "web", "--app", d, "--app-name", "api"]);
        assert!(take_app_names(&mut a.source, &mut a.apps, a.all).is_err());
    }

    #[test]
    fn with_an_application_source_the_positional_word_names_the_application() {
        let render = |argv: &[&str]| match crate::cli::Cli::try_parse_from(argv).unwrap().command {
            crate::cli::Command::Render(r) => r.source,
            _ => unreachable!(),
        };
        let req = crate::cli::convert::source_request(&render(&["kubectl-gitops", "render", "web", "--app", "apps"]))
            .unwrap();
        let crate::source::SourceRequest::App { name, file, .. } = req else { panic!("{req:?}") };
        assert_eq!((name.as_deref(), file.as_path()), (Some("web"), Path::new("apps")));
        let both = render(&["kubectl-gitops", "render", "web", "--app", "apps", "--app-name", "api"]);
        assert!(
            crate::cli::convert::source_request(&both).unwrap_err().to_string().contains("name the Application once")
        );
        // Without an Application source the word stays the source directory.
        let req = crate::cli::convert::source_request(&render(&["kubectl-gitops", "render", "web"])).unwrap();
        assert_eq!(req, crate::source::SourceRequest::Local { path: "web".into(), root: None });
    }
}
