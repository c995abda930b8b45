//! `KUBECTL_EXTERNAL_DIFF`: write the cleaned, masked live and predicted
//! objects into `LIVE/` and `MERGED/` directories (kubectl's file names) and
//! run the user's program on the two directories, as kubectl does. The
//! program's exit status is ours (0 none, 1 differences, >1 error, by the
//! convention kubectl documents).

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::diff::ObjectDiff;
use crate::error::{Error, Result};

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir() -> Result<TempDir> {
    let base = std::env::temp_dir();
    for i in 0..100u32 {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let p = base.join(format!("kubectl-gitops-diff-{}-{nanos}-{i}", std::process::id()));
        // Only the user may read the objects (Secrets are masked, the rest is not).
        match std::fs::DirBuilder::new().mode(0o700).create(&p) {
            Ok(()) => return Ok(TempDir(p)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io(p, e)),
        }
    }
    Err(Error::ExternalDiff("cannot create a temporary directory".into()))
}

fn write(dir: &Path, name: &str, text: &str) -> Result<()> {
    use std::io::Write;
    let p = dir.join(name);
    let mut f =
        std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&p).map_err(|e| Error::io(&p, e))?;
    f.write_all(text.as_bytes()).map_err(|e| Error::io(p, e))
}

/// Run `program` (split on whitespace: command and arguments) on LIVE and MERGED dirs.
pub fn run(program: &str, diffs: &[ObjectDiff]) -> Result<i32> {
    let tmp = temp_dir()?;
    let (live, merged) = (tmp.0.join("LIVE"), tmp.0.join("MERGED"));
    for d in [&live, &merged] {
        std::fs::DirBuilder::new().mode(0o700).create(d).map_err(|e| Error::io(d, e))?;
    }
    for d in diffs {
        let name = d.file_name();
        if !d.live_yaml.is_empty() {
            write(&live, &name, &d.live_yaml)?;
        }
        if !d.merged_yaml.is_empty() {
            write(&merged, &name, &d.merged_yaml)?;
        }
    }
    let mut words = program.split_whitespace();
    let cmd = words.next().ok_or_else(|| Error::ExternalDiff("KUBECTL_EXTERNAL_DIFF is empty".into()))?;
    let status = Command::new(cmd)
        .args(words)
        .arg(&live)
        .arg(&merged)
        .status()
        .map_err(|e| Error::ExternalDiff(format!("{cmd}: {e}")))?;
    match status.code() {
        Some(code) => Ok(code),
        None => Err(Error::ExternalDiff(format!("{cmd} was killed by a signal"))),
    }
}
