//! The terminal of a many-app `sync`: progress lines prefixed with the
//! app's name, written one at a time by the cluster threads, and the prune
//! prompt, which holds the console (the other clusters' progress waits for
//! the answer) and names the app and context it is about.

use std::io::Write;
use std::sync::Mutex;

use crate::sync::{Entry, LiveItem, SyncUi};

/// The terminal the cluster threads share: one line (or one prompt) at a time.
pub struct Console {
    lock: Mutex<()>,
    /// stdin and stderr are terminals: prune prompts can be answered.
    interactive: bool,
}

impl Console {
    pub fn new(interactive: bool) -> Self {
        Console { lock: Mutex::new(()), interactive }
    }
}

/// Progress of one app's sync, prefixed with its name; the prune prompt
/// holds the console, so the other clusters' progress waits for the answer.
pub struct FleetUi<'a> {
    pub app: &'a str,
    pub context: &'a str,
    pub yes: bool,
    pub console: &'a Console,
}

impl SyncUi for FleetUi<'_> {
    fn step(&mut self, line: &str) {
        let _held = self.console.lock.lock().unwrap_or_else(|e| e.into_inner());
        eprintln!("{}: {line}", self.app);
    }

    fn object(&mut self, entry: &Entry, dry_run: bool) {
        let _held = self.console.lock.lock().unwrap_or_else(|e| e.into_inner());
        eprintln!("{}: {}", self.app, entry.line(dry_run));
    }

    fn confirm_prune(&mut self, items: &[LiveItem]) -> bool {
        if self.yes {
            return true;
        }
        if !self.console.interactive {
            return false;
        }
        let _held = self.console.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "{} (context {}): these {} objects are no longer rendered and will be deleted:",
            self.app,
            self.context,
            items.len()
        );
        for i in items {
            let _ = writeln!(err, "  {}", i.key());
        }
        let _ = write!(err, "Prune them for app {}? [y/N] ", self.app);
        let _ = err.flush();
        let mut answer = String::new();
        if std::io::BufRead::read_line(&mut std::io::stdin().lock(), &mut answer).is_err() {
            return false;
        }
        matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes")
    }
}
