//! The CLI's [`SyncUi`]: progress on stderr (one status line rewritten in
//! place on a terminal, plain lines otherwise) and the prune prompt.

use std::io::{BufRead, IsTerminal, Write};

use super::SyncUi;
use super::prune::LiveItem;
use super::report::Entry;

pub struct TerminalUi {
    /// `--yes`: prune without asking.
    pub yes: bool,
    tty: bool,
    done: usize,
    total: usize,
    status_shown: bool,
}

impl TerminalUi {
    pub fn new(yes: bool) -> Self {
        TerminalUi { yes, tty: std::io::stderr().is_terminal(), done: 0, total: 0, status_shown: false }
    }

    fn clear_status(&mut self, err: &mut impl Write) {
        if self.status_shown {
            let _ = write!(err, "\r\x1b[K");
            self.status_shown = false;
        }
    }

    /// Remove the status line before the summary is printed.
    pub fn finish(&mut self) {
        let mut err = std::io::stderr().lock();
        self.clear_status(&mut err);
    }
}

impl SyncUi for TerminalUi {
    fn step(&mut self, line: &str) {
        let mut err = std::io::stderr().lock();
        self.clear_status(&mut err);
        let _ = writeln!(err, "{line}");
    }

    fn object(&mut self, entry: &Entry, dry_run: bool) {
        self.done += 1;
        let mut err = std::io::stderr().lock();
        if self.tty {
            // Failures stay on screen; everything else is a rewritten status line.
            if entry.outcome == super::Outcome::Failed {
                self.clear_status(&mut err);
                let _ = writeln!(err, "{}", entry.line(dry_run));
            } else {
                let total = if self.total >= self.done { format!("/{}", self.total) } else { String::new() };
                let _ = write!(err, "\r\x1b[K[{}{total}] {}", self.done, entry.line(dry_run));
                self.status_shown = true;
            }
        } else {
            // One write per line (stderr is unbuffered; 1,000 objects, 1,000 writes).
            let _ = err.write_all(format!("{}\n", entry.line(dry_run)).as_bytes());
        }
    }

    fn expect(&mut self, objects: usize) {
        self.total = objects;
    }

    fn confirm_prune(&mut self, items: &[LiveItem]) -> bool {
        if self.yes {
            return true;
        }
        if !(std::io::stdin().is_terminal() && self.tty) {
            return false;
        }
        let mut err = std::io::stderr().lock();
        self.clear_status(&mut err);
        let _ = writeln!(err, "These {} objects are no longer rendered and will be deleted:", items.len());
        for i in items {
            let _ = writeln!(err, "  {}", i.key());
        }
        let _ = write!(err, "Prune them? [y/N] ");
        let _ = err.flush();
        let mut answer = String::new();
        if std::io::stdin().lock().read_line(&mut answer).is_err() {
            return false;
        }
        matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes")
    }
}
