//! Embedding the library in an async program: the program builds its own
//! `kube::Client` in its own tokio runtime, hands it to
//! [`Cluster::from_client`], and calls the same use cases the command line
//! calls (render, diff, sync, status), with typed results.
//!
//! ```text
//! cargo run --example embed -- DIR APP NAMESPACE
//! ```
//!
//! The kubeconfig comes from `KUBECONFIG` (or in-cluster configuration),
//! as for any kube-rs program. It renders DIR, shows how many objects
//! differ, syncs them as app APP into NAMESPACE with prune, diffs again
//! and prints the app's status. Exit code 0 when everything went through,
//! 2 on an error (printed once).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use kubectl_gitops::cluster::Cluster;
use kubectl_gitops::sync::Unattended;
use kubectl_gitops::usecase::{self, DiffRequest, SourceSpec, SyncRequest};

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, app, namespace] = &args[..] else {
        eprintln!("usage: embed DIR APP NAMESPACE");
        return ExitCode::from(2);
    };
    let run = async {
        // The program's own client, made in its own runtime.
        let client = kube::Client::try_default().await?;
        run(client, PathBuf::from(dir), app.clone(), namespace.clone()).await
    };
    match run.await {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// Render `dir`, diff, sync as app `app` into `namespace` with prune, diff
/// again and read the status, through `client`; what happened, as lines.
pub async fn run(
    client: kube::Client,
    dir: PathBuf,
    app: String,
    namespace: String,
) -> Result<String, Box<dyn std::error::Error>> {
    let mut report = String::new();
    let cluster = Arc::new(Cluster::from_client(client)?.with_namespace(&namespace).with_user("embed-example"));

    // A whole use case on a blocking thread: rendering is plain synchronous
    // code, and every cluster call inside waits on the program's runtime.
    let (name, source) = (app.clone(), SourceSpec::local(&dir));
    let (before, summary) = cluster
        .run(move |cluster| {
            let rendered = usecase::render(&source)?;
            let before = usecase::diff(cluster, &rendered, &DiffRequest::named(&name))?;
            let request = SyncRequest { prune: true, ..SyncRequest::default() };
            let options = usecase::sync_options(&request, &name, &rendered, cluster)?;
            let report = usecase::sync(cluster, &rendered, &options, &mut Unattended { confirm_prune: true })?;
            Ok((before.changed(), report.summary))
        })
        .await?;
    report += &format!("differing before the sync: {before}\n");
    report += &format!(
        "sync: {} created, {} configured, {} unchanged, {} pruned\n",
        summary.created, summary.configured, summary.unchanged, summary.pruned
    );

    // Blocking calls straight from async code work too (the runtime's
    // thread steps aside while they wait).
    let rendered = usecase::render(&SourceSpec::local(&dir))?;
    let after = usecase::diff(&cluster, &rendered, &DiffRequest::named(&app))?;
    report += &format!("differing after the sync: {}\n", after.changed());
    let status = usecase::status(&cluster, &rendered, &app, Default::default())?;
    report += &format!("status: {} {}\n", status.sync, status.health);
    // Dropping the cluster inside the runtime is fine: it owns no runtime here.
    drop(cluster);
    Ok(report)
}
