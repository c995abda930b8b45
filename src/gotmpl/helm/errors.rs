//! Helm's rewriting of template errors (`pkg/engine/engine.go`:
//! `cleanupParseError`, `reformatExecErrorMsg`), so a failing chart reads
//! as it does under `helm template`:
//!
//! - a parse error: `parse error at (FILE:LINE): MESSAGE`;
//! - `required`/`fail`: `execution error at (FILE:LINE:COL): MESSAGE`;
//! - another execution error: each template of the chain of `include`s on
//!   three lines (`FILE:LINE:COL`, `  executing "NAME" at <NODE>:`,
//!   `    MESSAGE`), or Go's one-line text when a link of the chain is not
//!   a template error (a function's own error, `tpl`'s wrapping).
//!
//! Go unwraps its error chain; our errors are flat strings, so the chain is
//! read back from the text: an `error calling F: ` message wraps the error
//! that follows it (text/template wraps with `%w`).

/// helm's `cleanupParseError`.
pub fn parse_error(filename: &str, err: &str) -> String {
    let tokens: Vec<&str> = err.split(": ").collect();
    if tokens.len() == 1 {
        return format!("parse error in ({filename}): {err}");
    }
    format!("parse error at ({}): {}", tokens[1], tokens[tokens.len() - 1])
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Traceable {
    location: String,
    message: String,
    executed: String,
}

impl Traceable {
    fn render(&self, out: &mut String) {
        if !self.location.is_empty() {
            out.push_str(&self.location);
            out.push_str("\n  ");
        }
        if !self.executed.is_empty() {
            out.push_str(&self.executed);
            out.push_str("\n    ");
        }
        if !self.message.is_empty() {
            out.push_str(&self.message);
            out.push('\n');
        }
    }
}

/// helm's `parseTemplateExecErrorString`; also returns the wrapped error's
/// text when this one is an `error calling F: ...`.
fn parse_exec(s: &str) -> Option<(Traceable, Option<&str>)> {
    let remainder = s.strip_prefix("template: ")?;
    if remainder.starts_with("no template ") {
        return Some((Traceable { location: String::new(), message: s.to_string(), executed: String::new() }, None));
    }
    if let Some(idx) = remainder.find(": executing ") {
        let name = &remainder[..idx];
        let after = &remainder[idx + ": executing ".len()..];
        if let Some(rest) = after.strip_prefix('"')
            && let Some(end) = rest.find('"')
        {
            let func = &rest[..end];
            let after_func = &rest[end + 1..];
            if let Some(after_at) = after_func.strip_prefix(" at <")
                && let Some(end_loc) = after_at.find(">: ")
            {
                let loc = &after_at[..end_loc];
                let full = &after_at[end_loc + 3..];
                let msg = match full.find(" template:") {
                    Some(cut) => &full[..cut],
                    None => full,
                };
                let inner = full.strip_prefix("error calling ").and_then(|r| r.split_once(": ")).map(|(_, i)| i);
                let t = Traceable {
                    location: name.to_string(),
                    message: msg.to_string(),
                    executed: format!("executing \"{func}\" at <{loc}>:"),
                };
                return Some((t, inner));
            }
        }
        return None;
    }
    let sep = remainder.rfind(": ")?;
    let mut msg = &remainder[sep + 2..];
    if let Some(cut) = msg.find(" template:") {
        msg = &msg[..cut];
    }
    Some((
        Traceable { location: remainder[..sep].to_string(), message: msg.to_string(), executed: String::new() },
        None,
    ))
}

/// helm's `reformatExecErrorMsg` for an execution error of `filename`.
pub fn exec_error(filename: &str, err: &str) -> String {
    let tokens: Vec<&str> = err.splitn(3, ": ").collect();
    if tokens.len() != 3 {
        return format!("execution error in ({filename}): {err}");
    }
    let location = tokens[1];
    if let (Some(start), Some(end)) = (tokens[2].find(super::WARN_START), tokens[2].rfind(super::WARN_END))
        && start + super::WARN_START.len() <= end
    {
        return format!("execution error at ({location}): {}", &tokens[2][start + super::WARN_START.len()..end]);
    }
    let mut chain: Vec<Traceable> = Vec::new();
    let mut current = err;
    loop {
        let Some((t, inner)) = parse_exec(current) else { return err.to_string() };
        if chain.last() != Some(&t) {
            chain.push(t);
        }
        match inner {
            Some(i) => current = i,
            None => break,
        }
    }
    let mut out = String::new();
    for t in &chain {
        t.render(&mut out);
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_helm() {
        let e = r#"template: e/templates/t.yaml:1:12: executing "e/templates/t.yaml" at <.Values.a.b.c>: nil pointer evaluating interface {}.b"#;
        assert_eq!(
            exec_error("e/templates/t.yaml", e),
            "e/templates/t.yaml:1:12\n  executing \"e/templates/t.yaml\" at <.Values.a.b.c>:\n    nil pointer evaluating interface {}.b"
        );
        let e = r#"template: e/templates/t.yaml:1:5: executing "e/templates/t.yaml" at <include "bad" .>: error calling include: template: e/templates/_h.tpl:2:8: executing "bad" at <.a.b.c>: nil pointer evaluating interface {}.b"#;
        assert_eq!(
            exec_error("e/templates/t.yaml", e),
            "e/templates/t.yaml:1:5\n  executing \"e/templates/t.yaml\" at <include \"bad\" .>:\n    error calling include:\ne/templates/_h.tpl:2:8\n  executing \"bad\" at <.a.b.c>:\n    nil pointer evaluating interface {}.b"
        );
        let e = r#"template: e/templates/t.yaml:1:5: executing "e/templates/t.yaml" at <include "nope" .>: error calling include: template: no template "nope" associated with template "gotpl""#;
        assert_eq!(
            exec_error("e/templates/t.yaml", e),
            "e/templates/t.yaml:1:5\n  executing \"e/templates/t.yaml\" at <include \"nope\" .>:\n    error calling include:\ntemplate: no template \"nope\" associated with template \"gotpl\""
        );
        // A function's own error: Go's one-line text.
        let e = r#"template: e/templates/t.yaml:1:5: executing "e/templates/t.yaml" at <index .Values 1>: error calling index: value has type int; should be string"#;
        assert_eq!(exec_error("e/templates/t.yaml", e), e);
        let e = r#"template: e/templates/t.yaml:1:5: executing "e/templates/t.yaml" at <include "req" .>: error calling include: template: e/templates/_h.tpl:4:26: executing "req" at <required "need x" .x>: error calling required: HELM_ERR_STARTneed xHELM_ERR_END"#;
        assert_eq!(exec_error("e/templates/t.yaml", e), "execution error at (e/templates/t.yaml:1:5): need x");
        assert_eq!(
            parse_error("t/templates/t.yaml", r#"template: t/templates/t.yaml:3: function "nofunc" not defined"#),
            r#"parse error at (t/templates/t.yaml:3): function "nofunc" not defined"#
        );
    }
}
