//! The documentation stays true: README.md and every page of `docs/`.
//!
//! - Every `kubectl gitops ...` command the pages show (in `sh`/`console`
//!   blocks and in inline code) parses with the binary's own clap
//!   definition (`kubectl_gitops::cli::Cli`): the subcommand exists, every
//!   flag is one it takes, values it checks are valid. An inline flag
//!   (`` `--prune` ``, `` `-f/--values` ``) must be a flag of some
//!   subcommand, unless FOREIGN_FLAGS names the tool it belongs to.
//! - Runnable examples, a ```` ```console ```` block right after a line
//!   `<!-- test: run -->` (options: `dir=PATH`, the working directory
//!   relative to the repository top; `exit=N`, the exit code of every
//!   command, default 0), are run against a fresh git repository holding
//!   `examples/` and `testdata/`, no cluster: each `$ kubectl gitops ...`
//!   line's stdout then stderr must be the lines the page shows under it
//!   (the repository's path shown as `/path/to/repo`).
//! - Every page of `docs/` is linked from README.md, every relative link
//!   resolves (file and `#anchor`), every repository path (`tests/x.rs`,
//!   `scripts/y.sh`, ...) and test (`x::test_fn`) a page names exists, and
//!   each page names the tests that exercise it before its first `##`
//!   section; every `KUBECTL_GITOPS_*` variable a page names is read
//!   somewhere (`src/`, `scripts/`, `plugins/`, `tests/support/`).

mod git_support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser};
use kubectl_gitops::cli::Cli;

/// Pages other branches add: the pages link them before they exist here.
/// Once one exists, take it off this list (the test says so).
const PENDING_PAGES: &[&str] = &[];

/// Flags the pages name that belong to other tools, with the tool.
const FOREIGN_FLAGS: &[(&str, &str)] = &[("--local-repo-root", "argocd"), ("--include-crds", "helm template")];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A page: its path relative to the repository top, and its text.
struct Page {
    rel: String,
    text: String,
}

/// README.md and `docs/*.md`, in name order.
fn pages() -> Vec<Page> {
    let mut rels = vec!["README.md".to_string()];
    let mut docs: Vec<String> = std::fs::read_dir(root().join("docs"))
        .expect("docs/")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    docs.sort();
    rels.extend(docs);
    rels.into_iter()
        .map(|rel| {
            let text = std::fs::read_to_string(root().join(&rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
            Page { rel, text }
        })
        .collect()
}

/// A fenced code block: its info string, the marker comment just before it
/// (`<!-- test: ... -->`), its first line's number, and its lines.
struct Block {
    info: String,
    marker: Option<String>,
    line: usize,
    lines: Vec<String>,
}

/// A paragraph of prose (outside code blocks), its lines joined by spaces.
struct Prose {
    line: usize,
    text: String,
}

/// The code blocks and prose paragraphs of a page; panics on a block that
/// is never closed, or a test marker that no code block follows.
fn split_page(rel: &str, text: &str) -> (Vec<Block>, Vec<Prose>) {
    let mut blocks = Vec::new();
    let mut prose = Vec::new();
    let mut open: Option<(String, Block)> = None;
    let mut para: Option<Prose> = None;
    let mut last_marker: Option<String> = None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let trimmed = raw.trim_start();
        if let Some((fence, mut block)) = open.take() {
            if trimmed.starts_with(&fence)
                && trimmed.trim_start_matches(fence.chars().next().unwrap()).trim().is_empty()
            {
                blocks.push(block);
            } else {
                block.lines.push(raw.to_string());
                open = Some((fence, block));
            }
            continue;
        }
        let fence_len = |c: char| trimmed.chars().take_while(|&x| x == c).count();
        if fence_len('`') >= 3 || fence_len('~') >= 3 {
            let c = trimmed.chars().next().unwrap();
            let fence: String = std::iter::repeat_n(c, fence_len(c)).collect();
            let info = trimmed[fence.len()..].trim().to_string();
            prose.extend(para.take());
            open = Some((fence, Block { info, marker: last_marker.take(), line: n, lines: Vec::new() }));
            continue;
        }
        if let Some(m) = trimmed.strip_prefix("<!-- test:").and_then(|r| r.trim_end().strip_suffix("-->")) {
            last_marker = Some(m.trim().to_string());
            continue;
        }
        if trimmed.is_empty() {
            prose.extend(para.take());
            continue;
        }
        assert!(last_marker.is_none(), "{rel}:{n}: a `<!-- test: ... -->` marker must come right before a code block");
        match &mut para {
            Some(p) => {
                p.text.push(' ');
                p.text.push_str(trimmed);
            }
            None => para = Some(Prose { line: n, text: trimmed.to_string() }),
        }
    }
    assert!(open.is_none(), "{rel}: a code block is never closed");
    prose.extend(para);
    (blocks, prose)
}

/// The inline code spans of a paragraph.
fn code_spans(text: &str) -> Vec<String> {
    let mut spans = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('`') {
        let ticks = rest[start..].chars().take_while(|&c| c == '`').count();
        let fence = &rest[start..start + ticks];
        let after = &rest[start + ticks..];
        match after.find(fence) {
            Some(end) => {
                spans.push(after[..end].trim().to_string());
                rest = &after[end + ticks..];
            }
            None => break,
        }
    }
    spans
}

/// Splits a command line as a shell does for the simple commands the pages
/// show: quotes, backslash escapes, and a stop at a comment, pipe,
/// redirection or command separator.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    w.push(c);
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => w.extend(chars.next()),
                        c => w.push(c),
                    }
                }
            }
            '\\' => word.get_or_insert_with(String::new).extend(chars.next()),
            c if c.is_whitespace() => words.extend(word.take()),
            '#' if word.is_none() => break,
            '|' | '>' | '<' | ';' | '&' | ')' => break,
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// A `kubectl gitops` command found on a page.
struct Shown {
    place: String,
    args: Vec<String>,
}

/// Every `kubectl gitops ARGS` in shell blocks and inline code of a page.
fn commands(page: &Page) -> Vec<Shown> {
    let (blocks, prose) = split_page(&page.rel, &page.text);
    let mut found = Vec::new();
    let mut take = |place: String, text: &str| {
        let mut rest = text;
        while let Some(at) = rest.find("kubectl gitops") {
            let tail = &rest[at + "kubectl gitops".len()..];
            rest = tail;
            if !(tail.is_empty() || tail.starts_with(' ')) {
                continue;
            }
            let args = shell_words(tail);
            if !args.is_empty() {
                found.push(Shown { place: place.clone(), args });
            }
        }
    };
    for block in &blocks {
        if !matches!(block.info.as_str(), "" | "sh" | "bash" | "shell" | "console") {
            continue;
        }
        let mut joined = String::new();
        for (i, line) in block.lines.iter().enumerate() {
            match line.strip_suffix('\\') {
                Some(head) => {
                    joined.push_str(head);
                    continue;
                }
                None => joined.push_str(line),
            }
            let text = std::mem::take(&mut joined);
            let text = text.trim_start().strip_prefix("$ ").unwrap_or(text.trim_start());
            take(format!("{}:{}", page.rel, block.line + 1 + i), text);
        }
    }
    for p in &prose {
        for span in code_spans(&p.text) {
            take(format!("{}:{} `{span}`", page.rel, p.line), &span);
        }
    }
    found
}

#[test]
fn every_command_shown_parses_with_the_binarys_flags() {
    let mut bad = Vec::new();
    let mut count = 0;
    for page in pages() {
        for shown in commands(&page) {
            count += 1;
            let argv = std::iter::once("kubectl-gitops".to_string()).chain(shown.args.iter().cloned());
            if let Err(e) = Cli::try_parse_from(argv) {
                use clap::error::ErrorKind::{DisplayHelp, DisplayVersion};
                if !matches!(e.kind(), DisplayHelp | DisplayVersion) {
                    let msg = e.render().to_string();
                    let first = msg.lines().next().unwrap_or_default().to_string();
                    bad.push(format!("{}: kubectl gitops {}\n    {first}", shown.place, shown.args.join(" ")));
                }
            }
        }
    }
    assert!(count > 50, "only {count} commands found: is the scanner broken?");
    assert!(bad.is_empty(), "commands the binary does not accept:\n{}", bad.join("\n"));
}

/// Every long and short flag of every subcommand (and the global ones).
fn known_flags() -> BTreeSet<String> {
    fn walk(cmd: &clap::Command, out: &mut BTreeSet<String>) {
        for arg in cmd.get_arguments() {
            out.extend(arg.get_long_and_visible_aliases().into_iter().flatten().map(|l| format!("--{l}")));
            out.extend(arg.get_short_and_visible_aliases().into_iter().flatten().map(|s| format!("-{s}")));
        }
        for sub in cmd.get_subcommands() {
            walk(sub, out);
        }
    }
    let mut out = BTreeSet::from(["--help".to_string(), "-h".to_string(), "--version".into(), "-V".into()]);
    walk(&Cli::command(), &mut out);
    out
}

/// The flags an inline span such as `-f/--values FILE`, `--cascade=orphan`
/// or `-vv` names; none when the span does not start with a flag.
fn span_flags(span: &str) -> Vec<String> {
    let first = span.split_whitespace().next().unwrap_or_default();
    let first = first.split('=').next().unwrap();
    let is_flag = |s: &str| {
        s.strip_prefix("--").map_or_else(
            // `-n`, or a repeated counting flag such as `-vv`.
            || {
                s.strip_prefix('-').is_some_and(|r| {
                    r.chars().next().is_some_and(|c| c.is_ascii_alphabetic() && r.chars().all(|x| x == c))
                })
            },
            |r| !r.is_empty() && r.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
        )
    };
    let parts: Vec<&str> = first.split('/').collect();
    if !parts.iter().all(|p| is_flag(p)) {
        return Vec::new();
    }
    parts
        .into_iter()
        .flat_map(|p| match p.strip_prefix("--") {
            Some(_) => vec![p.to_string()],
            None => vec![p[..2].to_string()],
        })
        .collect()
}

#[test]
fn every_inline_flag_is_a_flag_of_the_binary() {
    let known = known_flags();
    let mut bad = Vec::new();
    for page in pages() {
        let (_, prose) = split_page(&page.rel, &page.text);
        for p in &prose {
            for span in code_spans(&p.text) {
                for flag in span_flags(&span) {
                    if !known.contains(&flag) && !FOREIGN_FLAGS.iter().any(|(f, _)| *f == flag) {
                        bad.push(format!("{}:{}: `{span}`: {flag}", page.rel, p.line));
                    }
                }
            }
        }
    }
    assert!(bad.is_empty(), "flags the binary does not have:\n{}", bad.join("\n"));
}

/// A fresh git repository holding `examples/` and `testdata/`, as a clone
/// has them, and a private HOME and cache for the binary.
struct Sandbox {
    dir: tempfile::TempDir,
    /// `dir`, canonical, as the binary prints it.
    path: String,
    env: git_support::Env,
}

/// What the pages show for the sandbox's path: where the reader's copy of
/// the repository is.
const SANDBOX_SHOWN_AS: &str = "/path/to/repo";

impl Sandbox {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["examples", "testdata"] {
            copy_dir(&root().join(sub), &dir.path().join(sub));
        }
        let git = |args: &[&str]| git_support::git(dir.path(), args);
        git(&["init", "-q"]);
        git(&["add", "-A"]);
        git(&["commit", "-q", "-m", "docs"]);
        let path = dir.path().canonicalize().unwrap().display().to_string();
        Sandbox { dir, path, env: git_support::Env::new().set("NO_COLOR", "1") }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_dir(&entry.path(), &target);
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path()).unwrap(), &target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A runnable example: the commands of a marked `console` block, each with
/// the output the page shows.
struct Example {
    place: String,
    dir: PathBuf,
    exit: i32,
    steps: Vec<(String, Vec<String>)>,
}

fn examples(page: &Page) -> Vec<Example> {
    let (blocks, _) = split_page(&page.rel, &page.text);
    let mut out = Vec::new();
    for block in blocks {
        let Some(marker) = &block.marker else { continue };
        let place = format!("{}:{}", page.rel, block.line);
        let mut words = marker.split_whitespace();
        assert_eq!(words.next(), Some("run"), "{place}: the marker is `<!-- test: run [dir=PATH] [exit=N] -->`");
        let (mut dir, mut exit) = (PathBuf::from("."), 0);
        for opt in words {
            match opt.split_once('=') {
                Some(("dir", d)) => dir = PathBuf::from(d),
                Some(("exit", n)) => exit = n.parse().unwrap_or_else(|_| panic!("{place}: exit={n}")),
                _ => panic!("{place}: unknown option {opt:?} in the test marker"),
            }
        }
        assert_eq!(block.info, "console", "{place}: a runnable example is a ```console block");
        let mut steps: Vec<(String, Vec<String>)> = Vec::new();
        for line in &block.lines {
            match line.strip_prefix("$ ") {
                Some(cmd) => steps.push((cmd.to_string(), Vec::new())),
                None => match steps.last_mut() {
                    Some((_, output)) => output.push(line.trim_end().to_string()),
                    None => panic!("{place}: a runnable example starts with a `$ ` command line"),
                },
            }
        }
        assert!(!steps.is_empty(), "{place}: no `$ ` command line");
        out.push(Example { place, dir, exit, steps });
    }
    out
}

#[test]
fn runnable_examples_print_what_the_pages_show() {
    let sandbox = Sandbox::new();
    let mut bad = Vec::new();
    let mut count = 0;
    for page in pages() {
        for ex in examples(&page) {
            for (cmd, want) in &ex.steps {
                count += 1;
                let words = plain_words(cmd).unwrap_or_else(|c| {
                    panic!(
                        "{}: `{cmd}`: a runnable command is words and 'quoted words'; {c:?} is shell syntax",
                        ex.place
                    )
                });
                let args = words.strip_prefix(&["kubectl".to_string(), "gitops".to_string()]).unwrap_or_else(|| {
                    panic!("{}: `{cmd}`: a runnable command starts with `kubectl gitops`", ex.place)
                });
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let r = sandbox.env.run(&sandbox.dir.path().join(&ex.dir), &args);
                let printed = format!("{}{}", r.stdout, r.stderr).replace(&sandbox.path, SANDBOX_SHOWN_AS);
                let got: Vec<String> = printed.lines().map(|l| l.trim_end().to_string()).collect();
                let want: Vec<String> = strip_trailing_empty(want);
                if r.code != ex.exit || got != want {
                    bad.push(format!(
                        "{}: $ {cmd}\n  exit {} (want {})\n  --- page shows\n{}\n  --- binary prints\n{}",
                        ex.place,
                        r.code,
                        ex.exit,
                        want.join("\n"),
                        got.join("\n")
                    ));
                }
            }
        }
    }
    assert!(count >= 5, "only {count} runnable examples found");
    assert!(bad.is_empty(), "runnable examples that do not print what their page shows:\n{}", bad.join("\n\n"));
}

/// The words of a runnable command as a shell reads them, when it uses
/// nothing but words and single quotes; else the first character that a
/// shell would read otherwise (a glob, a variable, a redirection, ...).
fn plain_words(cmd: &str) -> Result<Vec<String>, char> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quoted = false;
    for c in cmd.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                word.get_or_insert_with(String::new);
            }
            c if quoted => word.get_or_insert_with(String::new).push(c),
            c if c.is_whitespace() => words.extend(word.take()),
            c if "\"`$|&;<>(){}[]*?~!#\\".contains(c) => return Err(c),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    if quoted {
        return Err('\'');
    }
    words.extend(word);
    Ok(words)
}

fn strip_trailing_empty(lines: &[String]) -> Vec<String> {
    let mut v = lines.to_vec();
    while v.last().is_some_and(|l| l.is_empty()) {
        v.pop();
    }
    v
}

/// `[text](target)` links of a page (outside code blocks and inline code).
fn links(page: &Page) -> Vec<(usize, String)> {
    let (_, prose) = split_page(&page.rel, &page.text);
    let mut out = Vec::new();
    for p in &prose {
        let mut text = p.text.clone();
        for span in code_spans(&p.text) {
            text = text.replacen(&format!("`{span}`"), "", 1);
        }
        let mut rest = text.as_str();
        while let Some(at) = rest.find("](") {
            let tail = &rest[at + 2..];
            let end = tail.find(')').unwrap_or(tail.len());
            out.push((p.line, tail[..end].trim().to_string()));
            rest = &tail[end..];
        }
    }
    out
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces
/// to dashes.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The `#anchor`s of the headings of page `rel`.
fn anchors(rel: &str, text: &str) -> BTreeSet<String> {
    let (blocks, _) = split_page(rel, text);
    let in_code: BTreeSet<usize> = blocks.iter().flat_map(|b| b.line..=b.line + b.lines.len() + 1).collect();
    text.lines()
        .enumerate()
        .filter(|(i, _)| !in_code.contains(&(i + 1)))
        .filter_map(|(_, l)| l.strip_prefix('#'))
        .map(|l| slug(l.trim_start_matches('#')))
        .collect()
}

#[test]
fn pages_are_linked_from_the_readme_and_links_resolve() {
    let pages = pages();
    let mut bad = Vec::new();
    let mut readme_targets = BTreeSet::new();
    for page in &pages {
        let base = Path::new(&page.rel).parent().unwrap();
        for (line, target) in links(page) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = target.split_once('#').map_or((target.as_str(), None), |(f, a)| (f, Some(a)));
            let rel = if file.is_empty() { page.rel.clone() } else { normalize(&base.join(file)) };
            if page.rel == "README.md" {
                readme_targets.insert(rel.clone());
            }
            let path = root().join(&rel);
            if !path.exists() {
                if PENDING_PAGES.contains(&rel.as_str()) {
                    continue;
                }
                bad.push(format!("{}:{line}: ({target}): {rel} does not exist", page.rel));
                continue;
            }
            if let Some(anchor) = anchor.filter(|_| rel.ends_with(".md")) {
                let text = std::fs::read_to_string(&path).unwrap();
                if !anchors(&rel, &text).contains(anchor) {
                    bad.push(format!("{}:{line}: ({target}): {rel} has no heading #{anchor}", page.rel));
                }
            }
        }
    }
    for page in pages.iter().filter(|p| p.rel.starts_with("docs/")) {
        if !readme_targets.contains(&page.rel) {
            bad.push(format!("README.md does not link {}", page.rel));
        }
    }
    for pending in PENDING_PAGES {
        if root().join(pending).exists() {
            bad.push(format!("{pending} exists now: take it off PENDING_PAGES in tests/docs.rs"));
        }
        if !readme_targets.contains(*pending) {
            bad.push(format!("README.md does not link {pending} (PENDING_PAGES)"));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// `a/b/../c` as `a/c`, with `/` separators.
fn normalize(path: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir => {
                parts.pop();
            }
            std::path::Component::CurDir => {}
            c => parts.push(c.as_os_str().to_string_lossy().into_owned()),
        }
    }
    parts.join("/")
}

/// Top directories of the repository: a code span starting with one is a path.
const REPO_DIRS: &[&str] =
    &["docs/", "examples/", "fuzz/", "plugins/", "scripts/", "src/", "testdata/", "tests/", "vendor/"];

/// The `fn` names of `tests/NAME.rs`.
fn test_fns(stem: &str) -> Option<BTreeSet<String>> {
    let text = std::fs::read_to_string(root().join("tests").join(format!("{stem}.rs"))).ok()?;
    Some(
        text.split("fn ")
            .skip(1)
            .map(|s| s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect())
            .collect(),
    )
}

/// The text of every file under `src/`, `scripts/`, `plugins/` and
/// `tests/support/`: where the environment variables the binary, its
/// plugins and its test tools read are named.
fn code_text() -> String {
    let mut all = String::new();
    for dir in ["src", "scripts", "plugins", "tests/support"] {
        for entry in walkdir::WalkDir::new(root().join(dir)).into_iter().map(Result::unwrap) {
            if entry.file_type().is_file() {
                all.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
            }
        }
    }
    all
}

#[test]
fn environment_variables_the_pages_name_are_read_somewhere() {
    let code = code_text();
    let mut bad = Vec::new();
    let mut count = 0;
    for page in pages() {
        let mut rest = page.text.as_str();
        while let Some(at) = rest.find("KUBECTL_GITOPS_") {
            let name: String =
                rest[at..].chars().take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_').collect();
            rest = &rest[at + name.len()..];
            let name = name.trim_end_matches('_');
            count += 1;
            if !code.contains(name) {
                bad.push(format!(
                    "{}: {name} is not read by anything in src/, scripts/, plugins/ or tests/support/",
                    page.rel
                ));
            }
        }
    }
    assert!(count > 5, "only {count} variables found");
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn files_and_tests_the_pages_name_exist_and_each_page_names_its_tests() {
    let mut bad = Vec::new();
    for page in pages() {
        let (_, prose) = split_page(&page.rel, &page.text);
        let mut spans: Vec<(usize, String)> = Vec::new();
        for p in &prose {
            spans.extend(code_spans(&p.text).into_iter().map(|s| (p.line, s)));
        }
        // Table rows are prose too: spans in `| ... |` lines are read above.
        for (line, span) in &spans {
            // A path in the repository (no placeholder, no glob) exists.
            let in_repo = REPO_DIRS.iter().any(|d| span.starts_with(d));
            if in_repo && !span.contains(['<', '*', ' ']) && !root().join(span).exists() {
                bad.push(format!("{}:{line}: {span} does not exist", page.rel));
            }
            if let Some((stem, name)) = span.split_once("::") {
                let is_ident = |s: &str| {
                    !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                };
                // `stem::name` where tests/stem.rs exists: a test there.
                if is_ident(stem)
                    && is_ident(name)
                    && let Some(fns) = test_fns(stem)
                    && !fns.contains(name)
                {
                    bad.push(format!("{}:{line}: {span}: tests/{stem}.rs has no fn {name}", page.rel));
                }
            }
        }
        if page.rel.starts_with("docs/") {
            let head = page.text.split("\n## ").next().unwrap();
            let names_a_test = code_spans(&head.replace('\n', " "))
                .iter()
                .any(|s| s.starts_with("tests/") && s.ends_with(".rs") && s.len() > "tests/.rs".len());
            if !names_a_test {
                bad.push(format!(
                    "{}: the top (before the first `##`) names no `tests/NAME.rs` that exercises it",
                    page.rel
                ));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
