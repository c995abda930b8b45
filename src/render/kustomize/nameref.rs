//! Name-reference fix-up: after prefixes, suffixes, namespaces and hashes
//! renamed objects, update every field that names them (kustomize's
//! `nameReference` config and `filters/nameref` candidate sieve).

use std::collections::HashSet;

use serde_json::Value;

use super::fieldspec::{Create, GvkSel, Spec, defaults, visit};
use super::resource::{Res, ResId};

/// Which resources `referrer` could name (kustomize's
/// `SubsetThatCouldBeReferencedByResource`).
fn could_be_referenced(ra: &[Res], cur: &[ResId], renamed: &[usize], referrer: usize) -> Result<Vec<usize>, String> {
    let rid = &cur[referrer];
    if rid.is_cluster_scoped() {
        return Ok(renamed.to_vec());
    }
    let mut rb_namespaces = HashSet::new();
    if matches!(rid.kind.as_str(), "RoleBinding" | "ClusterRoleBinding")
        && let Some(Value::Array(subjects)) = ra[referrer].data().get("subjects")
    {
        for s in subjects {
            match s.get("namespace") {
                None => {}
                Some(Value::String(ns)) if !ns.is_empty() => {
                    rb_namespaces.insert(ns.to_string());
                }
                Some(_) => {
                    return Err(format!(
                        "Invalid Input: namespace is blank for resource {rid:?}",
                        rid = rid.to_string()
                    ));
                }
            }
        }
    }
    Ok(renamed
        .iter()
        .copied()
        .filter(|&i| {
            let id = &cur[i];
            id.is_cluster_scoped() || id.ns_equals(rid) || rb_namespaces.contains(&id.namespace)
        })
        .collect())
}

struct Ctx<'a> {
    ra: &'a [Res],
    cur: &'a [ResId],
    prev: &'a [Vec<ResId>],
    referrer: usize,
    referrer_id: ResId,
    referral: &'a GvkSel,
    spec: &'a Spec,
    candidates: &'a [usize],
}

fn role_ref_gvk(r: &Res) -> Option<GvkSel> {
    let rr = r.data().get("roleRef")?;
    Some(GvkSel {
        group: rr.get("apiGroup")?.as_str()?.to_string(),
        version: String::new(),
        kind: rr.get("kind")?.as_str()?.to_string(),
    })
}

impl Ctx<'_> {
    fn select(
        &self,
        old: &str,
        candidates: &[usize],
        identical: fn(&[Res], &[usize]) -> bool,
    ) -> Result<Option<usize>, String> {
        let ra = self.ra;
        let prev_sel = |i: usize, sel: &GvkSel| self.prev[i].iter().any(|p| sel.matches(&p.group, &p.version, &p.kind));
        let mut c: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&i| ra[i].prev.iter().any(|p| p.name == old))
            .filter(|&i| prev_sel(i, self.referral))
            .collect();
        if self.spec.path_text.ends_with("roleRef/name")
            && let Some(sel) = role_ref_gvk(&ra[self.referrer])
        {
            c.retain(|&i| prev_sel(i, &sel));
        }
        if !self.referrer_id.is_cluster_scoped() {
            c.retain(|&i| {
                let id = &self.cur[i];
                id.is_cluster_scoped() || id.kind == "ServiceAccount" || self.referrer_id.ns_equals(id)
            });
        }
        if c.len() == 1 {
            return Ok(Some(c[0]));
        }
        let me = &ra[self.referrer];
        c.retain(|&i| ra[i].prefixes_suffixes_equal(me, true));
        if c.len() > 1 {
            c.retain(|&i| ra[i].prefixes_suffixes_equal(me, false));
        }
        match c.len() {
            0 => Ok(None),
            1 => Ok(Some(c[0])),
            _ if identical(ra, &c) => Ok(Some(c[0])),
            _ => {
                let ids: Vec<String> = c.iter().map(|&i| self.cur[i].to_string()).collect();
                Err(format!("found multiple possible referrals: {}", ids.join(", ")))
            }
        }
    }

    fn set_scalar(&self, node: &mut Value) -> Result<(), String> {
        let Value::String(old) = node else { return Ok(()) };
        if let Some(i) = self.select(old, self.candidates, names_same)? {
            let name = self.ra[i].obj.name();
            if name != old {
                *node = Value::String(name.to_string());
            }
        }
        Ok(())
    }

    fn set_mapping(&self, node: &mut Value) -> Result<(), String> {
        let Value::Object(m) = node else { return Ok(()) };
        let Some(old) = m.get("name").and_then(Value::as_str).map(str::to_string) else {
            return Err("path config error; no 'name' field in node".into());
        };
        let filtered: Vec<usize>;
        let cands: &[usize] = match m.get("namespace").and_then(Value::as_str) {
            None => self.candidates,
            Some(ns) => {
                let by_org: Vec<usize> = self
                    .candidates
                    .iter()
                    .copied()
                    .filter(|&i| self.ra[i].org_id().effective_namespace() == ns)
                    .collect();
                filtered = if by_org.is_empty() {
                    self.candidates.iter().copied().filter(|&i| self.cur[i].effective_namespace() == ns).collect()
                } else {
                    by_org
                };
                &filtered
            }
        };
        let Some(i) = self.select(&old, cands, names_and_namespaces_same)? else { return Ok(()) };
        let r = &self.ra[i];
        let ns = r.obj.namespace().unwrap_or("");
        if r.obj.name() == old && ns.is_empty() {
            return Ok(());
        }
        m.insert("name".into(), Value::String(r.obj.name().to_string()));
        if !ns.is_empty() {
            m.insert("namespace".into(), Value::String(ns.to_string()));
        }
        Ok(())
    }

    fn set(&self, node: &mut Value) -> Result<(), String> {
        match node {
            Value::Null => Ok(()),
            Value::String(_) => self.set_scalar(node),
            Value::Object(_) => self.set_mapping(node),
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::String(_) => self.set_scalar(item)?,
                        Value::Object(_) => self.set_mapping(item)?,
                        _ => {}
                    }
                }
                Ok(())
            }
            _ => Err("node must be a scalar, sequence or map".into()),
        }
    }
}

fn names_same(ra: &[Res], c: &[usize]) -> bool {
    c.iter().all(|&i| ra[i].obj.name() == ra[c[0]].obj.name())
}

fn names_and_namespaces_same(ra: &[Res], c: &[usize]) -> bool {
    c.iter().all(|&i| ra[i].obj.name() == ra[c[0]].obj.name() && ra[i].obj.namespace() == ra[c[0]].obj.namespace())
}

/// Does `v` hold a non-null node at `path` (lists searched element-wise)?
fn has_path(v: &Value, path: &[String]) -> bool {
    let Some(first) = path.first() else { return !v.is_null() };
    match v {
        Value::Object(m) => m.get(first.trim_end_matches("[]")).is_some_and(|c| has_path(c, &path[1..])),
        Value::Array(items) => items.iter().any(|i| has_path(i, path)),
        _ => false,
    }
}

/// Fix every name reference in `ra`.
pub fn fix(ra: &mut [Res]) -> Result<(), String> {
    let refs = &defaults().name_refs;
    let cur: Vec<ResId> = ra.iter().map(Res::cur_id).collect();
    let prev: Vec<Vec<ResId>> = ra.iter().map(Res::prev_ids).collect();
    // Only renamed resources can be referrals (kustomize matches former names).
    let renamed: Vec<usize> = (0..ra.len()).filter(|&i| !prev[i].is_empty()).collect();
    for referrer in 0..ra.len() {
        let org = ra[referrer].org_id();
        let mut candidates: Option<Vec<usize>> = None;
        for nr in refs {
            for spec in &nr.specs {
                if !spec.gvk.matches(&org.group, &org.version, &org.kind) {
                    continue;
                }
                if !has_path_map(ra[referrer].data(), &spec.path) {
                    continue;
                }
                if candidates.is_none() {
                    candidates = Some(could_be_referenced(ra, &cur, &renamed, referrer)?);
                }
                let cands = candidates.clone().unwrap_or_default();
                let mut data = Value::Object(ra[referrer].data().clone());
                let ctx = Ctx {
                    ra,
                    cur: &cur,
                    prev: &prev,
                    referrer,
                    referrer_id: cur[referrer].clone(),
                    referral: &nr.referral,
                    spec,
                    candidates: &cands,
                };
                visit(&mut data, &spec.path, false, Create::Nothing, &mut |n| ctx.set(n)).map_err(|e| {
                    format!("updating name reference in '{}' field of '{}': {e}", spec.path_text, cur[referrer])
                })?;
                if let Value::Object(m) = data {
                    *ra[referrer].data_mut() = m;
                }
            }
        }
    }
    Ok(())
}

fn has_path_map(m: &serde_json::Map<String, Value>, path: &[String]) -> bool {
    let Some(first) = path.first() else { return true };
    m.get(first.trim_end_matches("[]")).is_some_and(|c| has_path(c, &path[1..]))
}
