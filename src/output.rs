//! Printers for object sets: YAML stream, JSON `List`, names.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::{Value, json};

use crate::model::Object;
use crate::yaml::write_yaml_map;

/// `-o` formats for object sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// A YAML stream, documents separated by `---`.
    Yaml,
    /// A `v1` `List`, as `kubectl get -o json` prints.
    Json,
    /// `kind.group/name` lines, as `kubectl get -o name` prints.
    Name,
}

/// Write objects in the given format.
pub fn write_objects<'a, W: Write>(
    out: &mut W,
    objects: impl IntoIterator<Item = &'a Object>,
    format: OutputFormat,
) -> io::Result<()> {
    match format {
        OutputFormat::Yaml => {
            let mut buf = String::with_capacity(1 << 16);
            for (i, o) in objects.into_iter().enumerate() {
                if i > 0 {
                    buf.push_str("---\n");
                }
                write_yaml_map(&mut buf, o.data());
                if buf.len() > 1 << 16 {
                    out.write_all(buf.as_bytes())?;
                    buf.clear();
                }
            }
            out.write_all(buf.as_bytes())
        }
        OutputFormat::Json => {
            let items: Vec<&serde_json::Map<String, Value>> = objects.into_iter().map(Object::data).collect();
            let list = json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items});
            write_json(out, &list)
        }
        OutputFormat::Name => {
            for o in objects {
                writeln!(out, "{}", o.key().kubectl_name())?;
            }
            Ok(())
        }
    }
}

/// Pretty JSON with kubectl's four-space indentation and a final newline.
pub fn write_json<W: Write, T: Serialize>(out: &mut W, value: &T) -> io::Result<()> {
    let mut ser =
        serde_json::Serializer::with_formatter(&mut *out, serde_json::ser::PrettyFormatter::with_indent(b"    "));
    value.serialize(&mut ser).map_err(io::Error::other)?;
    out.write_all(b"\n")
}
