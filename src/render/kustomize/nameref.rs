//! Name-reference fix-up: after prefixes, suffixes, namespaces and hashes
//! renamed objects, update every field that names them (kustomize's
//! `nameReference` config and `filters/nameref` candidate sieve).
//!
//! Resources are indexed by their former names once, so each reference
//! looks only at the few resources that ever had the name it holds.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::fieldspec::{Create, GvkSel, NameRef, Spec, visit};
use super::resource::{Res, ResId};

/// Per-resource facts computed once for the whole fix-up.
struct Index {
    cur: Vec<ResId>,
    prev: Vec<Vec<ResId>>,
    cluster: Vec<bool>,
    /// Effective current namespace ("default" for unset, "" for cluster-scoped).
    eff_ns: Vec<String>,
    /// Effective original namespace.
    org_ns: Vec<String>,
    /// Former name -> resources that had it.
    by_prev_name: HashMap<String, Vec<usize>>,
}

impl Index {
    fn new(ra: &[Res]) -> Index {
        let cur: Vec<ResId> = ra.iter().map(Res::cur_id).collect();
        let prev: Vec<Vec<ResId>> = ra.iter().map(Res::prev_ids).collect();
        let cluster = cur.iter().map(ResId::is_cluster_scoped).collect();
        let eff_ns = cur.iter().map(|id| id.effective_namespace().to_string()).collect();
        let org_ns = ra.iter().map(|r| r.org_id().effective_namespace().to_string()).collect();
        let mut by_prev_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, r) in ra.iter().enumerate() {
            let mut seen = HashSet::new();
            for p in &r.prev {
                if seen.insert(p.name.as_str()) {
                    by_prev_name.entry(p.name.clone()).or_default().push(i);
                }
            }
        }
        Index { cur, prev, cluster, eff_ns, org_ns, by_prev_name }
    }
}

/// The referrer side: which resources it may name (kustomize's
/// `SubsetThatCouldBeReferencedByResource`).
struct Referrer {
    index: usize,
    cluster: bool,
    rb_namespaces: HashSet<String>,
    role_ref: Option<GvkSel>,
}

impl Referrer {
    fn new(ra: &[Res], ix: &Index, index: usize) -> Result<Referrer, String> {
        let rid = &ix.cur[index];
        let mut rb_namespaces = HashSet::new();
        if matches!(rid.kind.as_str(), "RoleBinding" | "ClusterRoleBinding")
            && let Some(Value::Array(subjects)) = ra[index].data().get("subjects")
        {
            for s in subjects {
                match s.get("namespace") {
                    None => {}
                    Some(Value::String(ns)) if !ns.is_empty() => {
                        rb_namespaces.insert(ns.to_string());
                    }
                    Some(_) => {
                        return Err(format!("Invalid Input: namespace is blank for resource \"{rid}\""));
                    }
                }
            }
        }
        Ok(Referrer { index, cluster: ix.cluster[index], rb_namespaces, role_ref: role_ref_gvk(&ra[index]) })
    }

    fn allows(&self, ix: &Index, i: usize) -> bool {
        self.cluster
            || ix.cluster[i]
            || ix.eff_ns[i] == ix.eff_ns[self.index]
            || self.rb_namespaces.contains(&ix.cur[i].namespace)
    }
}

struct Ctx<'a> {
    ra: &'a [Res],
    ix: &'a Index,
    who: &'a Referrer,
    referral: &'a GvkSel,
    spec: &'a Spec,
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
    /// kustomize's `selectReferral`; `ns` narrows to a namespace first.
    fn select(
        &self,
        old: &str,
        ns: Option<&str>,
        identical: fn(&[ResId], &[usize]) -> bool,
    ) -> Result<Option<usize>, String> {
        let (ra, ix) = (self.ra, self.ix);
        let Some(named) = ix.by_prev_name.get(old) else { return Ok(None) };
        let prev_sel = |i: usize, sel: &GvkSel| ix.prev[i].iter().any(|p| sel.matches(&p.group, &p.version, &p.kind));
        let mut c: Vec<usize> = named.iter().copied().filter(|&i| self.who.allows(ix, i)).collect();
        if let Some(ns) = ns {
            // Candidates in that original namespace if any resource the
            // referrer may name has it, else in that current namespace.
            let any_org = (0..ra.len()).any(|i| self.who.allows(ix, i) && ix.org_ns[i] == ns);
            if any_org {
                c.retain(|&i| ix.org_ns[i] == ns);
            } else {
                c.retain(|&i| ix.eff_ns[i] == ns);
            }
        }
        c.retain(|&i| prev_sel(i, self.referral));
        if self.spec.path_text.ends_with("roleRef/name")
            && let Some(sel) = &self.who.role_ref
        {
            c.retain(|&i| prev_sel(i, sel));
        }
        if !self.who.cluster {
            let me = self.who.index;
            c.retain(|&i| ix.cluster[i] || ix.cur[i].kind == "ServiceAccount" || ix.eff_ns[i] == ix.eff_ns[me]);
        }
        if c.len() == 1 {
            return Ok(Some(c[0]));
        }
        let me = &ra[self.who.index];
        c.retain(|&i| ra[i].prefixes_suffixes_equal(me, true));
        if c.len() > 1 {
            c.retain(|&i| ra[i].prefixes_suffixes_equal(me, false));
        }
        match c.len() {
            0 => Ok(None),
            1 => Ok(Some(c[0])),
            _ if identical(&ix.cur, &c) => Ok(Some(c[0])),
            _ => {
                let ids: Vec<String> = c.iter().map(|&i| ix.cur[i].to_string()).collect();
                Err(format!("found multiple possible referrals: {}", ids.join(", ")))
            }
        }
    }

    fn set_scalar(&self, node: &mut Value) -> Result<(), String> {
        let Value::String(old) = node else { return Ok(()) };
        if let Some(i) = self.select(old, None, names_same)? {
            let name = self.ix.cur[i].name.as_str();
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
        let ns = m.get("namespace").and_then(Value::as_str).map(str::to_string);
        let Some(i) = self.select(&old, ns.as_deref(), names_and_namespaces_same)? else { return Ok(()) };
        let id = &self.ix.cur[i];
        let ns = id.namespace.as_str();
        if id.name == old && ns.is_empty() {
            return Ok(());
        }
        m.insert("name".into(), Value::String(id.name.clone()));
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

fn names_same(ids: &[ResId], c: &[usize]) -> bool {
    c.iter().all(|&i| ids[i].name == ids[c[0]].name)
}

fn names_and_namespaces_same(ids: &[ResId], c: &[usize]) -> bool {
    c.iter().all(|&i| ids[i].name == ids[c[0]].name && ids[i].namespace == ids[c[0]].namespace)
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

fn has_path_map(m: &serde_json::Map<String, Value>, path: &[String]) -> bool {
    let Some(first) = path.first() else { return true };
    m.get(first.trim_end_matches("[]")).is_some_and(|c| has_path(c, &path[1..]))
}

/// Fix every name reference in `ra`.
pub fn fix(ra: &mut [Res], refs: &[NameRef]) -> Result<(), String> {
    let ix = Index::new(ra);
    for referrer in 0..ra.len() {
        let org = ra[referrer].org_id();
        let who = Referrer::new(ra, &ix, referrer)?;
        for nr in refs {
            for spec in &nr.specs {
                if !spec.gvk.matches(&org.group, &org.version, &org.kind)
                    || !has_path_map(ra[referrer].data(), &spec.path)
                {
                    continue;
                }
                let mut data = Value::Object(std::mem::take(ra[referrer].data_mut()));
                let ctx = Ctx { ra, ix: &ix, who: &who, referral: &nr.referral, spec };
                let out = visit(&mut data, &spec.path, false, Create::Nothing, &mut |n| ctx.set(n));
                if let Value::Object(m) = data {
                    *ra[referrer].data_mut() = m;
                }
                out.map_err(|e| {
                    format!("updating name reference in '{}' field of '{}': {e}", spec.path_text, ix.cur[referrer])
                })?;
            }
        }
    }
    Ok(())
}
