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
            let objects: Vec<&Object> = objects.into_iter().collect();
            let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(objects.len() / 32);
            if workers <= 1 {
                return write_yaml_objects(out, &objects);
            }
            // Objects formatted on all cores (each worker takes the next
            // one), written in order.
            let next = std::sync::atomic::AtomicUsize::new(0);
            let texts: Vec<std::sync::OnceLock<String>> = objects.iter().map(|_| std::sync::OnceLock::new()).collect();
            let format = || {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(o) = objects.get(i) else { break };
                    let mut text = String::new();
                    write_yaml_map(&mut text, o.data());
                    let _ = texts[i].set(text);
                }
            };
            std::thread::scope(|s| {
                for _ in 1..workers {
                    s.spawn(format);
                }
                format();
            });
            for (i, t) in texts.iter().enumerate() {
                if i > 0 {
                    out.write_all(b"---\n")?;
                }
                out.write_all(t.get().expect("every object formatted").as_bytes())?;
            }
            Ok(())
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

/// `objects` as YAML documents, `---` between them.
fn write_yaml_objects<W: Write>(out: &mut W, objects: &[&Object]) -> io::Result<()> {
    let mut buf = String::with_capacity(1 << 16);
    for (i, o) in objects.iter().enumerate() {
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

/// Pretty JSON with kubectl's four-space indentation and a final newline.
pub fn write_json<W: Write, T: Serialize>(out: &mut W, value: &T) -> io::Result<()> {
    let mut ser =
        serde_json::Serializer::with_formatter(&mut *out, serde_json::ser::PrettyFormatter::with_indent(b"    "));
    value.serialize(&mut ser).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Origin;

    #[test]
    fn many_objects_print_in_order() {
        let objects: Vec<Object> = (0..150)
            .map(|i| {
                let v = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("c{i}")}});
                Object::new(v, Origin::new("f.yaml", i, 1)).unwrap()
            })
            .collect();
        let mut out = Vec::new();
        write_objects(&mut out, &objects, OutputFormat::Yaml).unwrap();
        let text = String::from_utf8(out).unwrap();
        let docs: Vec<&str> = text.split("---\n").collect();
        assert_eq!(docs.len(), 150);
        for (i, d) in docs.iter().enumerate() {
            assert_eq!(*d, format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n"));
        }
    }
}
