//! An Application's `kustomize` block applied to a kustomization, as Argo CD
//! does by running `kustomize edit set namePrefix|nameSuffix|namespace|image|
//! replicas` and `kustomize edit add label|annotation` before the build.

use serde_json::{Map, Value, json};

use super::KustomizeSpec;

impl KustomizeSpec {
    /// Whether the block changes anything (Argo CD runs no edit otherwise).
    pub fn has_edits(&self) -> bool {
        !self.name_prefix.is_empty()
            || !self.name_suffix.is_empty()
            || self.namespace.is_some()
            || !self.images.is_empty()
            || !self.common_labels.is_empty()
            || !self.common_annotations.is_empty()
            || !self.replicas.is_empty()
    }

    /// Edit a kustomization document in place. Without `forceCommonLabels`
    /// (`forceCommonAnnotations`), a label (annotation) the kustomization
    /// already sets is an error, as `kustomize edit add` reports it.
    pub fn edit_kustomization(&self, k: &mut Map<String, Value>) -> Result<(), String> {
        let set = |k: &mut Map<String, Value>, key: &str, v: &str| {
            if !v.is_empty() {
                k.insert(key.into(), Value::String(v.into()));
            }
        };
        set(k, "namePrefix", &self.name_prefix);
        set(k, "nameSuffix", &self.name_suffix);
        set(k, "namespace", self.namespace.as_deref().unwrap_or(""));
        for (field, pairs, force, what, flag) in [
            ("commonLabels", &self.common_labels, self.force_common_labels, "label", "forceCommonLabels"),
            (
                "commonAnnotations",
                &self.common_annotations,
                self.force_common_annotations,
                "annotation",
                "forceCommonAnnotations",
            ),
        ] {
            if pairs.is_empty() {
                continue;
            }
            let map = k.entry(field).or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(map) = map else { return Err(format!("{field} in the kustomization is not a mapping")) };
            for (key, v) in pairs {
                if !force && map.contains_key(key) {
                    return Err(format!("{what} {key} already in kustomization file (set {flag})"));
                }
                map.insert(key.clone(), Value::String(v.clone()));
            }
        }
        if !self.images.is_empty() {
            let mut images = list(k, "images")?;
            for img in &self.images {
                let v = serde_json::to_value(img).map_err(|e| e.to_string())?;
                upsert(&mut images, &img.name, v);
            }
            images.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
            k.insert("images".into(), Value::Array(images));
        }
        if !self.replicas.is_empty() {
            let mut replicas = list(k, "replicas")?;
            for r in &self.replicas {
                upsert(&mut replicas, &r.name, json!({"name": r.name, "count": r.count}));
            }
            k.insert("replicas".into(), Value::Array(replicas));
        }
        Ok(())
    }
}

fn list(k: &Map<String, Value>, field: &str) -> Result<Vec<Value>, String> {
    match k.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items.clone()),
        Some(_) => Err(format!("{field} in the kustomization is not a list")),
    }
}

fn upsert(items: &mut Vec<Value>, name: &str, v: Value) {
    match items.iter_mut().find(|i| i["name"].as_str() == Some(name)) {
        Some(slot) => *slot = v,
        None => items.push(v),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{KustomizeImage, KustomizeReplica};
    use super::*;

    #[test]
    fn edits_a_kustomization_like_kustomize_edit() {
        let spec = KustomizeSpec {
            name_prefix: "p-".into(),
            namespace: Some("prod".into()),
            images: vec![KustomizeImage::parse("nginx:1.27").unwrap(), KustomizeImage::parse("app=reg/app:2").unwrap()],
            common_labels: [("team".to_string(), "a".to_string())].into(),
            common_annotations: [("note".to_string(), "n".to_string())].into(),
            replicas: vec![KustomizeReplica { name: "web".into(), count: 3 }],
            ..Default::default()
        };
        assert!(spec.has_edits());
        let mut k = json!({
            "resources": ["a.yaml"],
            "nameSuffix": "-keep",
            "images": [{"name": "nginx", "newTag": "1.0"}, {"name": "busybox", "newTag": "1"}],
            "replicas": [{"name": "api", "count": 1}],
            "commonAnnotations": {"note": "old"}
        });
        let map = k.as_object_mut().unwrap();
        let err = spec.edit_kustomization(&mut map.clone()).unwrap_err();
        assert!(err.contains("annotation note already in kustomization file"), "{err}");
        let forced = KustomizeSpec { force_common_annotations: true, ..spec };
        forced.edit_kustomization(map).unwrap();
        assert_eq!(
            k,
            json!({
                "resources": ["a.yaml"],
                "namePrefix": "p-",
                "nameSuffix": "-keep",
                "namespace": "prod",
                "images": [
                    {"name": "app", "newName": "reg/app", "newTag": "2"},
                    {"name": "busybox", "newTag": "1"},
                    {"name": "nginx", "newTag": "1.27"}
                ],
                "replicas": [{"name": "api", "count": 1}, {"name": "web", "count": 3}],
                "commonLabels": {"team": "a"},
                "commonAnnotations": {"note": "n"}
            })
        );
        assert!(!KustomizeSpec::default().has_edits());
    }
}
