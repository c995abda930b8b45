//! `kubectl gitops image-update`: flags -> settings -> one library run ->
//! a table of the changes, the files' diff (`--dry-run`), a line per app.

use std::io::Write;

use crate::cli::ImageUpdateArgs;
use crate::error::{Error, Result};
use crate::imageupdate::update::{AppReport, image_update};

pub fn run(args: ImageUpdateArgs) -> Result<i32> {
    let settings = super::convert::image_update_settings(&args);
    let reports = image_update(&args.app, &args.apps, &settings)?;
    if reports.is_empty() {
        eprintln!(
            "no Application with an argocd-image-updater.argoproj.io/image-list annotation in {}",
            args.app.display()
        );
        return Ok(0);
    }
    let mut out = std::io::stdout().lock();
    let io = |e| Error::io("<stdout>", e);
    let ok: Vec<&AppReport> = reports.iter().filter_map(|(_, r)| r.as_ref().ok()).collect();
    let mut rows = vec![["APP", "IMAGE", "FROM", "TO", "FILE"].map(String::from).to_vec()];
    for r in &ok {
        let files = r.edits.iter().map(|e| e.path.as_str()).collect::<Vec<_>>().join(",");
        for c in &r.changes {
            let file = if files.is_empty() { "-".to_string() } else { files.clone() };
            rows.push(vec![r.app.clone(), c.image.clone(), or_dash(&c.old), c.new.clone(), file]);
        }
    }
    if rows.len() > 1 {
        write_table(&mut out, &rows).map_err(io)?;
    }
    if args.dry_run {
        for r in &ok {
            for e in &r.edits {
                let d = crate::diff::unified_diff(&e.path, e.before.as_deref().unwrap_or(""), &e.after);
                write!(out, "{d}").map_err(io)?;
            }
        }
    }
    let mut failed = 0;
    for (name, r) in &reports {
        match r {
            Ok(r) => {
                for s in &r.skipped {
                    eprintln!("{name}: {s}");
                }
                let line = match (&r.commit, r.edits.is_empty(), r.changes.is_empty()) {
                    (_, _, true) => "up to date".to_string(),
                    (_, true, false) => format!("{}: the files already say so; no commit", r.repository),
                    (Some(c), _, _) => format!(
                        "pushed {} to {} of {}{}",
                        &c[..c.len().min(12)],
                        r.branch,
                        r.repository,
                        if r.attempts > 1 { format!(" (attempt {})", r.attempts) } else { String::new() }
                    ),
                    (None, false, _) => format!(
                        "{} file(s) to change on {} of {}{}",
                        r.edits.len(),
                        r.branch,
                        r.repository,
                        if args.push { "" } else { " (plan only; --push commits and pushes)" }
                    ),
                };
                eprintln!("{name}: {line}");
            }
            Err(e) => {
                failed += 1;
                eprintln!("error: app {name}: {e}");
            }
        }
    }
    Ok(if failed > 0 { 2 } else { 0 })
}

fn or_dash(s: &str) -> String {
    if s.is_empty() { "-".into() } else { s.to_string() }
}

fn write_table(out: &mut impl Write, rows: &[Vec<String>]) -> std::io::Result<()> {
    let widths: Vec<usize> = (0..rows[0].len()).map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0)).collect();
    for r in rows {
        let line: Vec<String> = r.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        writeln!(out, "{}", line.join("   ").trim_end())?;
    }
    Ok(())
}
