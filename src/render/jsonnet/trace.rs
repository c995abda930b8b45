//! Jsonnet errors as text: the message, then one `at FILE:LINE:COLUMN` line
//! per stack frame (innermost first), file names relative to the source root.

use std::fmt::Write;
use std::path::Path;

use jrsonnet_evaluator::Error as JrError;
use jrsonnet_evaluator::error::ErrorKind;
use jrsonnet_evaluator::parser::{Source, SourcePath};

/// Most frames printed; deep recursion keeps the innermost and outermost.
const MAX_FRAMES: usize = 20;

fn source_name(path: &SourcePath, root: &Path) -> String {
    match path.path() {
        Some(p) => p.strip_prefix(root).unwrap_or(p).display().to_string(),
        None => path.to_string(),
    }
}

/// `file:line:column` (1-based) of a byte offset in a source.
fn location(source: &Source, offset: u32, root: &Path) -> String {
    let [loc] = source.map_source_locations(&[offset]);
    format!("{}:{}:{}", source_name(source.source_path(), root), loc.line, loc.column.saturating_sub(1).max(1))
}

/// The error's message and stack trace.
pub fn format_error(e: &JrError, root: &Path) -> String {
    let max_stack = super::MAX_STACK;
    let mut out = match e.error() {
        ErrorKind::ImportSyntaxError { path, error } => format!(
            "syntax error: expected {}\n    at {}:{}:{}",
            error.expected,
            source_name(path.source_path(), root),
            error.location.line,
            error.location.column
        ),
        ErrorKind::StackOverflow => format!("stack overflow: more than {max_stack} nested Jsonnet calls"),
        other => other.to_string(),
    };
    let frames = &e.trace().0;
    let skip = frames.len().saturating_sub(MAX_FRAMES);
    for (i, frame) in frames.iter().enumerate() {
        if skip > 0 && i >= MAX_FRAMES / 2 && i < MAX_FRAMES / 2 + skip {
            if i == MAX_FRAMES / 2 {
                let _ = write!(out, "\n    ... {skip} more frames");
            }
            continue;
        }
        match &frame.location {
            Some(span) => {
                let _ = write!(out, "\n    at {} ({})", location(&span.0, span.1, root), frame.desc);
            }
            None if frame.desc.starts_with("during ") => {
                let _ = write!(out, "\n    {}", frame.desc);
            }
            None => {
                let _ = write!(out, "\n    during {}", frame.desc);
            }
        }
    }
    out
}
