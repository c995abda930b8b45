//! Hostile repos and Application files (`testdata/hostile/`, README there):
//! each render ends with exit code 2 and a clear error, in bounded time and
//! memory, never a signal. Memory is bounded with `ulimit -v`, time with a
//! watchdog that kills the process.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{bin, testdata};

/// Address space a hostile render may use (a render that tries to expand a
/// bomb would need gigabytes).
const MEMORY_KB: u64 = 3 << 20;
/// Wall time a hostile render may take (debug build, loaded machine).
const WATCHDOG: Duration = Duration::from_secs(60);

struct Outcome {
    code: Option<i32>,
    stderr: String,
    elapsed: Duration,
}

/// Run the binary in `dir` under the memory limit and the watchdog.
fn run_bounded(dir: &Path, args: &[&str]) -> Outcome {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -v {MEMORY_KB}; exec \"$0\" \"$@\""))
        .arg(bin())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn");
    let mut err = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        s
    });
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > WATCHDOG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?} still running after {WATCHDOG:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = start.elapsed();
    let stderr = reader.join().unwrap_or_default();
    if let Some(sig) = std::os::unix::process::ExitStatusExt::signal(&status) {
        panic!("{args:?} was killed by signal {sig}: {stderr}");
    }
    Outcome { code: status.code(), stderr, elapsed }
}

/// Render `args` from the repo root; expect exit 2 and `needle` in the error.
fn refused(dir: &Path, args: &[&str], needle: &str) -> Outcome {
    let o = run_bounded(dir, args);
    assert_eq!(o.code, Some(2), "{args:?}: {}", o.stderr);
    assert!(o.stderr.contains(needle), "{args:?}: expected {needle:?} in: {}", o.stderr);
    assert!(o.stderr.len() < 4096, "{args:?}: an error should be short: {} bytes", o.stderr.len());
    o
}

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The generated inputs (`generate.py`), written once per test run.
fn generated() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("kubectl-gitops-hostile-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let ok = Command::new("python3")
            .arg(testdata("hostile/generate.py"))
            .arg(&dir)
            .status()
            .expect("python3 runs generate.py")
            .success();
        assert!(ok, "generate.py failed");
        let repo = dir.join("app-param-deep/repo");
        for args in
            [&["init", "-q"][..], &["add", "-A"], &["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "x"]]
        {
            assert!(Command::new("git").args(args).current_dir(&repo).status().expect("git").success());
        }
        dir
    })
}

#[test]
fn subchart_cycle_is_refused() {
    refused(repo_root(), &["render", "testdata/hostile/chart-self-cycle"], "subchart cycle");
}

#[test]
fn tpl_of_itself_stops_at_the_call_depth() {
    refused(repo_root(), &["render", "testdata/hostile/chart-tpl-self"], "template call depth limit");
}

#[test]
fn include_inside_a_macro_stops_at_the_call_depth() {
    refused(repo_root(), &["render", "testdata/hostile/chart-include-macro"], "template call depth limit");
}

#[test]
fn endless_template_loop_runs_out() {
    refused(repo_root(), &["render", "testdata/hostile/chart-endless-loop"], "ran out of fuel");
}

#[test]
fn deep_jsonnet_value_is_refused_in_linear_memory() {
    let o = refused(repo_root(), &["render", "testdata/hostile/jsonnet-deep"], "nests deeper than 256 levels");
    assert!(o.stderr.contains("--max-nesting"), "{}", o.stderr);
}

#[test]
fn endless_jsonnet_stops_at_the_render_timeout() {
    let o = refused(
        repo_root(),
        &["render", "testdata/hostile/jsonnet-endless", "--render-timeout", "2s"],
        "render time limit of 2s exceeded (raise it with --render-timeout)",
    );
    assert!(o.elapsed < Duration::from_secs(20), "took {:?}", o.elapsed);
}

#[test]
fn application_name_cannot_become_a_flag() {
    let injected = Path::new("/tmp/kubectl-gitops-hostile-injected");
    let _ = std::fs::remove_dir_all(injected);
    refused(repo_root(), &["render", "-f", "testdata/hostile/app-name-injection/app.yaml"], "metadata.name");
    assert!(!injected.exists(), "nothing may be written where the name pointed");
}

#[test]
fn int_tag_error_does_not_quote_the_secret() {
    let o = refused(repo_root(), &["render", "testdata/hostile/secret-int-tag"], "cannot read this scalar as !!int");
    assert!(!o.stderr.contains("s3cr3t"), "{}", o.stderr);
}

#[test]
fn nested_aliases_count_their_expanded_depth() {
    refused(generated(), &["render", "yaml-alias-depth"], "nesting deeper than 256 levels (after alias expansion)");
    refused(generated(), &["render", "yaml-alias-depth", "-o", "json"], "after alias expansion");
}

#[test]
fn alias_bomb_is_refused() {
    for output in ["yaml", "json"] {
        refused(generated(), &["render", "yaml-alias-bomb", "-o", output], "excessive aliasing");
    }
}

#[test]
fn many_files_share_one_output_budget() {
    refused(
        generated(),
        &["render", "yaml-alias-files", "-o", "json"],
        "render output limit of 512 MiB exceeded (raise it with --max-render-bytes)",
    );
    // A lower limit is reached sooner, and names itself.
    refused(generated(), &["render", "yaml-alias-files", "--max-render-bytes", "64Mi"], "limit of 64 MiB");
}

#[test]
fn deep_set_paths_are_refused() {
    let arg = format!("a{}=1", "[0]".repeat(30_000));
    refused(
        repo_root(),
        &["render", "testdata/charts/web-jinja", "--set", &arg],
        "nests deeper than the maximum supported 256 levels",
    );
}

#[test]
fn deep_application_parameter_names_the_app_file() {
    let o = refused(generated(), &["render", "-f", "app-param-deep/app.yaml"], "nests deeper than");
    assert!(o.stderr.contains("app.yaml") && o.stderr.contains("parameters"), "{}", o.stderr);
}

#[test]
fn nesting_limit_is_a_flag() {
    let dir = common::tree(&[(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: {b: {c: {d: {e: x}}}}}\n",
    )]);
    refused(dir.path(), &["render", ".", "--max-nesting", "4"], "nesting deeper than 4 levels");
    let ok = run_bounded(dir.path(), &["render", ".", "--max-nesting", "8"]);
    assert_eq!(ok.code, Some(0), "{}", ok.stderr);
}

/// A real helm for the plugin test (`$KUBECTL_GITOPS_HELM`, else the cache
/// scripts/install-helm.sh fills); `None` says why the test is skipped.
fn helm() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("KUBECTL_GITOPS_HELM").map(PathBuf::from),
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/kubectl-gitops-test/bin/helm")),
    ];
    let found = candidates.into_iter().flatten().find(|p| p.is_file());
    if found.is_none() {
        eprintln!("SKIPPED: no helm binary (run scripts/install-helm.sh)");
    }
    found
}

#[test]
fn helm_plugin_takes_the_release_name_after_double_dash() {
    let Some(helm) = helm() else { return };
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let copied = Command::new("cp").arg("-r").arg(testdata("charts/web-go")).arg(repo.join("chart")).status();
    assert!(copied.unwrap().success());
    for args in
        [&["init", "-q"][..], &["add", "-A"], &["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "x"]]
    {
        assert!(Command::new("git").args(args).current_dir(&repo).status().unwrap().success());
    }
    let app = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: web}\nspec:\n  source:\n    repoURL: repo\n    path: chart\n    helm: {releaseName: rel-x}\n  destination: {server: https://kubernetes.default.svc, namespace: team-a}\n";
    std::fs::write(dir.path().join("app.yaml"), app).unwrap();
    let plugins = repo_root().join("plugins");
    let out = Command::new(bin())
        .args(["render", "-f", "app.yaml", "--plugin-dir", plugins.to_str().unwrap()])
        .env("HELM_BIN", &helm)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("app.kubernetes.io/instance: rel-x"), "helm.releaseName is the release: {stdout}");
    // An invalid release name never reaches helm.
    let bad = app.replace("rel-x", "--output-dir=/tmp/x");
    std::fs::write(dir.path().join("app.yaml"), bad).unwrap();
    let o = run_bounded(dir.path(), &["render", "-f", "app.yaml", "--plugin-dir", plugins.to_str().unwrap()]);
    assert_eq!(o.code, Some(2), "{}", o.stderr);
    assert!(o.stderr.contains("invalid release name"), "{}", o.stderr);
}
