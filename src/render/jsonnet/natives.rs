//! The `std.native` functions Tanka provides and Kubernetes libraries use
//! (kube-libsonnet, grafana's jsonnet-libs): `parseYaml`, `parseJson`,
//! `manifestYamlFromJson`, `manifestJsonFromJson`, `sha256`,
//! `escapeStringRegex`, `regexMatch`, `regexSubst`. Same contracts as
//! Tanka's: `parseYaml` returns an array with one element per non-empty
//! document, read as kubectl reads YAML (YAML 1.1).

use jrsonnet_evaluator::function::builtin;
use jrsonnet_evaluator::{IStr, Result, Val, runtime_error};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::yaml::{Dialect, parse_stream, to_yaml_string};

fn to_val(v: Value) -> Result<Val> {
    Val::deserialize(v).map_err(|e| runtime_error!("cannot convert to a Jsonnet value: {e}"))
}

fn parse_json_text(text: &str, what: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| runtime_error!("{what}: invalid JSON: {e}"))
}

fn regex(pattern: &str) -> Result<regex::Regex> {
    regex::Regex::new(pattern).map_err(|e| runtime_error!("invalid regular expression {pattern:?}: {e}"))
}

#[builtin]
fn native_parse_yaml(yaml: IStr) -> Result<Val> {
    let docs = parse_stream(&yaml, Dialect::Kubectl).map_err(|e| runtime_error!("parseYaml: {e}"))?;
    let docs: Vec<Value> = docs.into_iter().map(|d| d.value).filter(|v| !v.is_null()).collect();
    to_val(Value::Array(docs))
}

#[builtin]
fn native_parse_json(json: IStr) -> Result<Val> {
    to_val(parse_json_text(&json, "parseJson")?)
}

#[builtin]
fn native_manifest_yaml_from_json(json: IStr) -> Result<String> {
    Ok(to_yaml_string(&parse_json_text(&json, "manifestYamlFromJson")?))
}

#[builtin]
fn native_manifest_json_from_json(json: IStr, indent: u32) -> Result<String> {
    let value = parse_json_text(&json, "manifestJsonFromJson")?;
    let pad = " ".repeat(indent as usize);
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(pad.as_bytes());
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    serde::Serialize::serialize(&value, &mut ser).map_err(|e| runtime_error!("manifestJsonFromJson: {e}"))?;
    let mut text = String::from_utf8(out).expect("serde_json writes UTF-8");
    text.push('\n');
    Ok(text)
}

#[builtin]
fn native_sha256(str: IStr) -> String {
    Sha256::digest(str.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[builtin]
fn native_escape_string_regex(str: IStr) -> String {
    regex::escape(&str)
}

#[builtin]
fn native_regex_match(regex: IStr, string: IStr) -> Result<bool> {
    Ok(self::regex(&regex)?.is_match(&string))
}

#[builtin]
fn native_regex_subst(regex: IStr, src: IStr, repl: IStr) -> Result<String> {
    Ok(self::regex(&regex)?.replace_all(&src, repl.as_str()).into_owned())
}

/// Make the natives available through `std.native(NAME)`.
pub fn register(ctx: &jrsonnet_stdlib::ContextInitializer) {
    ctx.add_native("parseYaml", native_parse_yaml::INST);
    ctx.add_native("parseJson", native_parse_json::INST);
    ctx.add_native("manifestYamlFromJson", native_manifest_yaml_from_json::INST);
    ctx.add_native("manifestJsonFromJson", native_manifest_json_from_json::INST);
    ctx.add_native("sha256", native_sha256::INST);
    ctx.add_native("escapeStringRegex", native_escape_string_regex::INST);
    ctx.add_native("regexMatch", native_regex_match::INST);
    ctx.add_native("regexSubst", native_regex_subst::INST);
}
