//! Rendered template text to objects, like `helm template` then our decoder.
//! A chart that loops can print thousands of documents from one template,
//! so the text is cut at document markers (`---` at the start of a line,
//! which always ends a YAML document) and the pieces are decoded on all
//! cores; origins keep the template's own line and document numbers.

use std::thread;

use crate::error::Result;
use crate::model::Object;
use crate::render::decode_manifests;
use crate::yaml::Dialect;

/// Below this many bytes a template's output is decoded on one thread.
const PARALLEL_THRESHOLD: usize = 64 * 1024;

/// Decode one template's output; errors and origins name `file` and its lines.
pub fn decode_template_output(text: &str, file: &str) -> Result<Vec<Object>> {
    let workers = thread::available_parallelism().map_or(1, |n| n.get());
    if workers <= 1 || text.len() < PARALLEL_THRESHOLD || text.starts_with('%') {
        return decode_manifests(text, file, Dialect::Kubectl);
    }
    let pieces = split_documents(text, workers * 4);
    let results: Vec<Result<Vec<Object>>> = thread::scope(|s| {
        let chunk = pieces.len().div_ceil(workers);
        let handles: Vec<_> = pieces
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(|p| decode_piece(p, file)).collect::<Vec<_>>()))
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("decode worker panicked")).collect()
    });
    let mut out = Vec::new();
    let mut documents = 0;
    for r in results {
        let objs = r?;
        let base = documents;
        for mut o in objs {
            documents = documents.max(base + o.origin.document + 1);
            o.origin.document += base;
            out.push(o);
        }
    }
    Ok(out)
}

/// A slice of the text starting at `line` (1-based) in the template's output.
struct Piece<'a> {
    text: &'a str,
    line: usize,
}

fn decode_piece(p: &Piece<'_>, file: &str) -> Result<Vec<Object>> {
    // Pad with newlines so lines in errors and origins are the template's own.
    let padded = format!("{}{}", "\n".repeat(p.line - 1), p.text);
    decode_manifests(&padded, file, Dialect::Kubectl)
}

/// Cut `text` at `---` lines into about `target` pieces of similar size.
fn split_documents(text: &str, target: usize) -> Vec<Piece<'_>> {
    let want = text.len() / target.max(1) + 1;
    let mut pieces = Vec::new();
    let (mut start, mut start_line, mut line, mut pos) = (0usize, 1usize, 1usize, 0usize);
    for l in text.split_inclusive('\n') {
        let is_marker = l.starts_with("---") && l[3..].chars().next().is_none_or(char::is_whitespace);
        if is_marker && pos - start >= want {
            pieces.push(Piece { text: &text[start..pos], line: start_line });
            start = pos;
            start_line = line;
        }
        pos += l.len();
        line += 1;
    }
    pieces.push(Piece { text: &text[start..], line: start_line });
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_decode_keeps_order_lines_and_documents() {
        let mut text = String::from("# head\n");
        for i in 0..3000 {
            text.push_str(&format!(
                "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\ndata:\n  k: \"{i}\"\n"
            ));
        }
        let objs = decode_template_output(&text, "t.yaml").unwrap();
        assert_eq!(objs.len(), 3000);
        assert_eq!(objs[2999].name(), "c2999");
        assert_eq!(objs[2999].origin.line, 2 + 2999 * 7 + 1);
        let serial = decode_manifests(&text, "t.yaml", Dialect::Kubectl).unwrap();
        for (a, b) in objs.iter().zip(&serial) {
            assert_eq!((a.name(), a.origin.line, a.origin.document), (b.name(), b.origin.line, b.origin.document));
        }
        text.push_str("---\nkind: X\n");
        let err = decode_template_output(&text, "t.yaml").unwrap_err().to_string();
        assert!(err.starts_with(&format!("t.yaml:{}:", 2 + 3000 * 7 + 1)), "{err}");
    }
}
