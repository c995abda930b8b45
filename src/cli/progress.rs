//! The CLI's [`SyncUi`] (CLI layer: the library reports progress through
//! that trait and never draws). On a terminal, through `indicatif`: a bar
//! per wave (objects done of the wave's count, elapsed time, the last
//! object), a spinner while waiting for health, notable lines printed above
//! them; otherwise plain lines, one per event. And the prune prompt.

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::sync::report::Entry;
use crate::sync::{LiveItem, Outcome, SyncUi};

pub struct TerminalUi {
    /// `--yes`: prune without asking.
    pub yes: bool,
    /// stderr is a terminal: draw bars.
    tty: bool,
    color: bool,
    bars: MultiProgress,
    wave: Option<ProgressBar>,
    spinner: Option<ProgressBar>,
}

impl TerminalUi {
    /// `color`: colour the bars (`--color`, `NO_COLOR`).
    pub fn new(yes: bool, color: bool) -> Self {
        let tty = std::io::stderr().is_terminal();
        let target = if tty { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
        TerminalUi { yes, tty, color, bars: MultiProgress::with_draw_target(target), wave: None, spinner: None }
    }

    fn line(&self, text: &str) {
        if self.tty {
            let _ = self.bars.println(text);
        } else {
            // One write per line (stderr is unbuffered; 1,000 objects, 1,000 writes).
            let _ = std::io::stderr().lock().write_all(format!("{text}\n").as_bytes());
        }
    }

    /// A finished wave's bar becomes a plain line (counts and time).
    fn end_wave(&mut self) {
        if let Some(bar) = self.wave.take() {
            let line = format!(
                "{}: {}/{} objects in {:.1}s",
                bar.prefix(),
                bar.position(),
                bar.length().unwrap_or(0),
                bar.elapsed().as_secs_f64()
            );
            bar.finish_and_clear();
            let _ = self.bars.println(line);
        }
    }

    fn end_spinner(&mut self) {
        if let Some(s) = self.spinner.take() {
            s.finish_and_clear();
        }
    }

    /// End the bars (the last wave's becomes a line) before the summary is printed.
    pub fn finish(&mut self) {
        self.end_spinner();
        self.end_wave();
    }

    fn style(&self, template_color: &str, template_plain: &str) -> ProgressStyle {
        let t = if self.color { template_color } else { template_plain };
        ProgressStyle::with_template(t).expect("a valid progress template")
    }
}

impl SyncUi for TerminalUi {
    fn step(&mut self, line: &str) {
        self.line(line);
    }

    fn wave(&mut self, phase: &str, wave: i64, objects: usize) {
        self.end_spinner();
        self.end_wave();
        if !self.tty {
            self.line(&format!("{phase} wave {wave}: {objects} objects"));
            return;
        }
        let bar = self.bars.add(ProgressBar::new(objects as u64));
        bar.set_style(
            self.style(
                "{prefix:.bold} [{elapsed_precise}] {bar:30.cyan/blue} {pos}/{len} {wide_msg}",
                "{prefix} [{elapsed_precise}] {bar:30} {pos}/{len} {wide_msg}",
            )
            .progress_chars("=> "),
        );
        bar.set_prefix(format!("{phase} wave {wave}"));
        bar.enable_steady_tick(Duration::from_millis(250));
        self.wave = Some(bar);
    }

    fn object(&mut self, entry: &Entry, dry_run: bool) {
        let text = entry.line(dry_run);
        match &self.wave {
            Some(bar) if self.tty && entry.outcome != Outcome::Failed && bar.position() < bar.length().unwrap_or(0) => {
                bar.inc(1);
                bar.set_message(text);
            }
            Some(bar) if self.tty && entry.outcome == Outcome::Failed => {
                bar.inc(1);
                self.line(&text);
            }
            _ => self.line(&text),
        }
    }

    fn waiting(&mut self, pending: &[String], first: bool) {
        let message = format!("waiting for {} objects to be healthy: {}", pending.len(), pending.join(", "));
        if !self.tty {
            if first {
                self.line(&message);
            }
            return;
        }
        if self.spinner.is_none() {
            let s = self.bars.add(ProgressBar::new_spinner());
            s.set_style(
                self.style(
                    "{spinner:.green} [{elapsed_precise}] {wide_msg}",
                    "{spinner} [{elapsed_precise}] {wide_msg}",
                ),
            );
            s.enable_steady_tick(Duration::from_millis(120));
            self.spinner = Some(s);
        }
        if let Some(s) = &self.spinner {
            s.set_message(message);
        }
    }

    fn waited(&mut self) {
        self.end_spinner();
    }

    fn confirm_prune(&mut self, items: &[LiveItem]) -> bool {
        if self.yes {
            return true;
        }
        if !(std::io::stdin().is_terminal() && self.tty) {
            return false;
        }
        self.bars.suspend(|| {
            let mut err = std::io::stderr().lock();
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
        })
    }
}
