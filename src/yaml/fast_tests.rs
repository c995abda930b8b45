//! The fast reader against the full one: whatever [`fast`] accepts must
//! read exactly as saphyr-parser's composer reads it.

use super::*;

/// Both readers on `text`: `Some(true)` when the fast one accepted it
/// (and agreed), `Some(false)` when it gave up; panics on a disagreement.
fn check(text: &str, what: &str) -> bool {
    check_with(text, what, &[Dialect::Kubectl, Dialect::Kustomize], &[DuplicateKeys::Error, DuplicateKeys::LastWins])
}

fn check_with(text: &str, what: &str, dialects: &[Dialect], dups: &[DuplicateKeys]) -> bool {
    for &dialect in dialects {
        for &dup in dups {
            let Ok(fast) = fast::parse_stream(text, dialect, dup, MAX_DEPTH) else { return false };
            let full = parse_stream_full(text, dialect, dup, ParseLimits::default()).map(|p| p.docs);
            assert_eq!(Ok(fast), full, "{what}: the fast reader differs on {text:?}");
        }
    }
    true
}

#[test]
fn fast_reader_handles_the_common_shapes() {
    let cases = [
        "a: 1\nb: x\n",
        "# c\n---\napiVersion: v1\nkind: List\nitems:\n- a: 1\n  b: [x]\n",
        "a:\n- 1\n- b: 2\n  c: 3\n-\n- - x\n  - y\nd: {}\n",
        "a:\n  b:\n    c: |\n      line 1\n\n      line 3\n    d: |-\n      x\n  e: 'it''s'\n  f: \"tab\\tq\\\"\\u00e9\"\n",
        "x: 1 # c\ny: \"a\" # c\nz: a#b\nw: ~\nv: yes\nu: 0644\nt: 1e3\non: 2\n",
        "- name: a\n  image: b\n- name: c\n",
        "a: 1\n---\nb: 2\n",
        "a: 1\n---\n",
        "---\n# c\n---\na: 1",
        "a: 1\n---",
        "a: 1\n--- # c\n# d\n---\nb: 1\n",
        "",
        "# c\n",
        "key with spaces: v\n\"quoted: key\": v\n'k': v\n",
        "a: |\n  x\nb: 1\n---\nc: |-\n  y\n  z\n",
        "a: b\n  c\n\n  d\ne: - f\n  g\n- h\n  i: j\n",
        "- a\n  b\n-  c\n   d\n\n",
        "a: b\n  # c\nd: e\n  f # g\nh: i\n  # j\n  k\n",
        "a: 'x\n  y''s\n\n  z'\nb: - c\n  `d`\n  \"e\"\n",
        "a: |\n\n  \n   x\n",
        "a: |\n  x",
        "- |-\n  x\n  y",
        "a: \"x \\\n  y\\t\n\n   z \"\nb: \"p\\\n  q\"\n",
    ];
    for c in cases {
        check(c, "case");
    }
    // these are read by the fast reader
    for c in ["a: 1\nb:\n- x\n", "- a\n- b: |\n    x\n", "a: \"x\"\n", "a: [1, \"2\", {b: c}]\nd:\n  {}\n"] {
        assert!(check(c, "accepted"), "{c:?} should be read by the fast reader");
    }
    // and these are left to the full reader
    for c in ["a: &x 1\nb: *x\n", "a: [1, 2,]\n", "a: {b:c}\n", "a: >\n  x\n", "a: 1\na: 2\n", "a:\tb\n"] {
        assert!(!check(c, "refused"), "{c:?} should be left to the full reader");
    }
}

/// Every YAML file under tests/data (gzipped ones too).
#[test]
fn fast_reader_agrees_on_every_test_file() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let (mut files, mut accepted) = (0, 0);
    for entry in walkdir::WalkDir::new(&root).into_iter().filter_map(Result::ok) {
        let path = entry.path();
        let name = path.to_string_lossy();
        let text = if name.ends_with(".yaml.gz") {
            use std::io::Read;
            let mut t = String::new();
            let f = std::fs::File::open(path).unwrap();
            if flate2::read::GzDecoder::new(f).read_to_string(&mut t).is_err() {
                continue;
            }
            t
        } else if (name.ends_with(".yaml") || name.ends_with(".yml")) && !name.contains("/templates/") {
            match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(_) => continue,
            }
        } else {
            continue;
        };
        files += 1;
        if check_with(&text, &name, &[Dialect::Kubectl], &[DuplicateKeys::Error, DuplicateKeys::LastWins]) {
            accepted += 1;
        } else if std::env::var_os("FAST_YAML_WHY").is_some() {
            let why = fast::parse_stream(&text, Dialect::Kubectl, DuplicateKeys::Error, MAX_DEPTH).unwrap_err();
            eprintln!("gave up at fast.rs:{}: {name}", why.0);
        }
        // each document on its own too (helm outputs are read per template)
        for doc in text.split("\n---\n") {
            check_with(doc, &name, &[Dialect::Kubectl], &[DuplicateKeys::Error]);
        }
    }
    assert!(files > 500, "{files} files");
    assert!(accepted * 2 > files, "the fast reader read only {accepted} of {files} files");
}

/// Generated texts from block YAML fragments, valid or not.
#[test]
fn fast_reader_agrees_on_generated_text() {
    const PIECES: &[&str] = &[
        "a",
        "b",
        "key",
        "-",
        "- ",
        ":",
        ": ",
        " ",
        "  ",
        "    ",
        "\n",
        "\n",
        "\n",
        "\n  ",
        "\n    ",
        "\n- ",
        "\n  - ",
        "#",
        " #",
        "'",
        "''",
        "\"",
        "\\",
        "\\n",
        "\\x41",
        "\\u00",
        "|",
        "|-",
        "|+",
        ">",
        "|2",
        "1",
        "0x1f",
        "1.5",
        "~",
        "null",
        "yes",
        "on",
        "y",
        "true",
        "---",
        "\n---\n",
        "\n---",
        "...",
        "<<",
        "&a",
        "*a",
        "!",
        "!!str",
        "[",
        "]",
        "{",
        "}",
        ",",
        "?",
        "%",
        "@",
        "\t",
        "é",
        "\u{85}",
        "a: 1",
        "b:",
        "- x",
        "k: |\n  t\n",
        ": x",
        "x:y",
        "é: ü",
        "[a, b]",
        "{a: 1}",
        ", ",
        "\"k\": ",
        "[]",
        "{}",
        "[",
        "{k: [1, {}]}",
        "-1",
        "\n   x",
        "\n\n",
        "a b",
        "'x\n  y'",
        "\n  `",
        "\n   '",
        "\n \n",
        "\"x\n  y\"",
        "\\\n",
        "\\",
        "\n   \"",
    ];
    // a small deterministic generator (xorshift)
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut accepted = 0;
    for _ in 0..60_000 {
        let len = 1 + next(24);
        let text: String = (0..len).map(|_| PIECES[next(PIECES.len())]).collect();
        if check(&text, "generated") {
            accepted += 1;
        }
    }
    assert!(accepted > 1000, "only {accepted} generated texts were read by the fast reader");
}
