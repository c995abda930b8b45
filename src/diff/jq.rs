//! `ignoreDifferences.jqPathExpressions`: each expression selects paths
//! (as gojq's `path(...)` does for Argo CD) that are deleted from the
//! object, through the jaq crates.

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data, unwrap_valr};
use jaq_json::Val;
use serde_json::Value;

/// `v` without the paths `expr` selects. An expression that does not
/// parse is an error naming it; one that fails on this object (a type
/// error, say) leaves the object as it is, as Argo CD does.
pub fn delete_paths(v: &Value, expr: &str) -> Result<Value, String> {
    run(v, &format!("del({expr})"), expr)
}

/// `desired` with the paths `expr` selects in `live` set to their live
/// values, and those it selects in `desired` only removed
/// (`RespectIgnoreDifferences`).
pub fn keep_live(desired: &Value, live: Option<&Value>, expr: &str) -> Result<Value, String> {
    let without = delete_paths(desired, expr)?;
    let Some(live) = live else { return Ok(without) };
    // The live values at the selected paths that exist, as [path, value] pairs.
    let exists = "(($p | length) > 0) and (try (getpath($p[:-1]) | has($p[-1])) catch false)";
    let pairs = run(live, &format!("[path({expr}) as $p | select({exists}) | [$p, getpath($p)]]"), expr)?;
    let input = serde_json::json!({"d": without, "pairs": pairs});
    let merged = run(&input, "reduce (.pairs // [])[] as $e (.d; setpath($e[0]; $e[1]))", expr)?;
    Ok(merged)
}

fn run(v: &Value, code: &str, expr: &str) -> Result<Value, String> {
    let defs = jaq_core::defs().chain(jaq_std::defs()).chain(jaq_json::defs());
    let funs = jaq_core::funs().chain(jaq_std::funs()).chain(jaq_json::funs());
    let loader = Loader::new(defs);
    let arena = Arena::default();
    let modules = loader
        .load(&arena, File { code, path: () })
        .map_err(|_| format!("jqPathExpressions: {expr:?} is not a valid jq expression"))?;
    let filter = Compiler::default()
        .with_funs(funs)
        .compile(modules)
        .map_err(|_| format!("jqPathExpressions: {expr:?} does not compile (unknown filter or variable)"))?;
    let text = serde_json::to_vec(v).map_err(|e| e.to_string())?;
    let input = jaq_json::read::parse_single(&text).map_err(|e| e.to_string())?;
    let ctx = Ctx::<data::JustLut<Val>>::new(&filter.lut, Vars::new([]));
    let mut out = filter.id.run((ctx, input)).map(unwrap_valr);
    match out.next() {
        Some(Ok(result)) => serde_json::from_str(&result.to_string()).map_err(|e| e.to_string()),
        _ => Ok(v.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deletes_selected_paths() {
        let v = json!({"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}, "n": 1.5});
        let out = delete_paths(&v, r#".spec.containers[] | select(.name == "a") | .image"#).unwrap();
        assert_eq!(out, json!({"spec": {"containers": [{"name": "a"}, {"name": "b", "image": "y"}]}, "n": 1.5}));
        // A type error on this object leaves it unchanged.
        assert_eq!(delete_paths(&v, ".n.x").unwrap(), v);
        assert!(delete_paths(&v, ".[[[").unwrap_err().contains("not a valid jq expression"));
    }

    #[test]
    fn keeps_live_values() {
        let desired = json!({"data": {"a": "git", "b": "git"}});
        let live = json!({"data": {"a": "live", "b": "old"}});
        let out = keep_live(&desired, Some(&live), ".data.a").unwrap();
        assert_eq!(out, json!({"data": {"a": "live", "b": "git"}}));
        let out = keep_live(&desired, Some(&json!({"data": {}})), ".data.a").unwrap();
        assert_eq!(out, json!({"data": {"b": "git"}}));
    }
}
