//! Secret values never leave the process: before a Secret is compared or
//! printed, every value of `data` (and `stringData`, folded into `data`
//! first) is replaced by a mask. As Argo CD does, per key, equal values get
//! equal masks and different values different masks (`++++++++`,
//! `+++++++++`, ...), so a change stays visible without its content.

use base64::Engine;
use serde_json::{Map, Value};

/// Is this a core `Secret`?
pub fn is_secret(v: &Value) -> bool {
    v.get("apiVersion").and_then(Value::as_str) == Some("v1") && v.get("kind").and_then(Value::as_str) == Some("Secret")
}

/// Fold `stringData` into `data` (base64), as the API server does on write.
pub fn fold_string_data(v: &mut Value) {
    let Some(Value::Object(sd)) = v.as_object_mut().and_then(|m| m.remove("stringData")) else { return };
    let obj = v.as_object_mut().expect("checked above");
    let data = obj.entry("data").or_insert_with(|| Value::Object(Map::new()));
    if !data.is_object() {
        *data = Value::Object(Map::new());
    }
    let data = data.as_object_mut().expect("just made a mapping");
    for (k, val) in sd {
        let text = match val {
            Value::String(s) => s,
            other => other.to_string(),
        };
        data.insert(k, Value::String(base64::engine::general_purpose::STANDARD.encode(text)));
    }
}

/// Mask the `data` values of Secrets `a` and `b` (either may be absent)
/// consistently across both.
pub fn mask_pair(a: Option<&mut Value>, b: Option<&mut Value>) {
    let mut objs: Vec<&mut Value> = [a, b].into_iter().flatten().filter(|v| is_secret(v)).collect();
    for v in objs.iter_mut() {
        fold_string_data(v);
    }
    let mut keys: Vec<String> = Vec::new();
    for v in &objs {
        if let Some(Value::Object(d)) = v.get("data") {
            keys.extend(d.keys().cloned());
        }
    }
    keys.sort();
    keys.dedup();
    for key in keys {
        let mut seen: Vec<Value> = Vec::new();
        for v in objs.iter_mut() {
            let Some(Value::Object(d)) = v.get_mut("data") else { continue };
            let Some(val) = d.get_mut(&key) else { continue };
            let idx = match seen.iter().position(|s| s == val) {
                Some(i) => i,
                None => {
                    seen.push(val.take());
                    seen.len() - 1
                }
            };
            *val = Value::String("+".repeat(8 + idx));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secret(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": data})
    }

    #[test]
    fn equal_values_equal_masks_changed_values_differ() {
        let mut live = secret(json!({"same": "YQ==", "changed": "Yg==", "gone": "Yw=="}));
        let mut merged = secret(json!({"same": "YQ==", "changed": "ZA==", "new": "ZQ=="}));
        mask_pair(Some(&mut live), Some(&mut merged));
        assert_eq!(live["data"], json!({"same": "++++++++", "changed": "++++++++", "gone": "++++++++"}));
        assert_eq!(merged["data"], json!({"same": "++++++++", "changed": "+++++++++", "new": "++++++++"}));
        let text = format!("{live}{merged}");
        for secret in ["YQ==", "Yg==", "Yw==", "ZA==", "ZQ=="] {
            assert!(!text.contains(secret));
        }
    }

    #[test]
    fn string_data_is_folded_before_masking() {
        let mut live = secret(json!({"k": "dmFsdWU="}));
        let mut desired =
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"k": "value"}});
        mask_pair(Some(&mut live), Some(&mut desired));
        assert_eq!(desired.get("stringData"), None);
        assert_eq!(live["data"]["k"], desired["data"]["k"]);
        // Not a Secret: untouched.
        let mut cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": "v"}});
        mask_pair(Some(&mut cm), None);
        assert_eq!(cm["data"]["k"], "v");
    }
}
