//! Helm's built-in objects for Go-template charts, as helm 4.1.4 builds
//! them for `helm template` (`pkg/engine/engine.go` `recAllTpls`,
//! `files.go`, `pkg/chart/common/capabilities.go`, `pkg/chart/common.go`):
//! `.Files` (`engine.files`: `Get`, `GetBytes`, `Glob`, `AsConfig`,
//! `AsSecrets`, `Lines`), `.Capabilities` (`KubeVersion` with
//! `GitVersion`, `APIVersions` with `Has`, `HelmVersion`), `.Chart` (the
//! metadata struct as helm's `structToMap` turns it into a map),
//! `.Release`.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use base64::Engine as _;

use super::engine::ReleaseSettings;
use super::gobglob::Glob;
use super::load::Chart;
use crate::gotmpl::value::{BYTES_TYPE, IntType, List, MAP_TYPE, Map, Param};
use crate::gotmpl::{Func, Object, Value};

/// A `[]byte` value (`.Files.GetBytes`).
pub fn bytes_value(b: &[u8]) -> Value {
    let items = b.iter().map(|&x| Value::Int(i64::from(x), IntType::Uint8)).collect();
    Value::List(List { items: Rc::new(items), ty: BYTES_TYPE })
}

/// `.Files`: the chart's files outside `templates/` and `charts/` (and
/// `Chart.yaml`, `values.yaml`, `values.schema.json`), by path. The bytes
/// are the loaded chart's, shared, not copied.
#[derive(Debug, Clone)]
pub struct Files {
    /// Every file, sorted by path.
    all: Arc<Vec<(String, Vec<u8>)>>,
    /// The files of this value (`.Files.Glob` selects some): indices into `all`.
    only: Option<Rc<Vec<usize>>>,
}

impl Files {
    pub fn from_chart(chart: &Chart) -> Files {
        Files::new(chart.files.clone())
    }

    /// The files `all` (sorted here unless they are).
    pub fn new(all: Arc<Vec<(String, Vec<u8>)>>) -> Files {
        if all.is_sorted_by(|a, b| a.0 < b.0) {
            return Files { all, only: None };
        }
        let mut sorted = all.as_ref().clone();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        sorted.dedup_by(|a, b| a.0 == b.0);
        Files { all: Arc::new(sorted), only: None }
    }

    /// The files of this value: (path, bytes), sorted by path.
    fn entries(&self) -> impl Iterator<Item = (&str, &[u8])> {
        let pick = |i: usize| (self.all[i].0.as_str(), self.all[i].1.as_slice());
        let n = self.only.as_ref().map_or(self.all.len(), |o| o.len());
        (0..n).map(move |k| pick(self.only.as_ref().map_or(k, |o| o[k])))
    }

    fn find(&self, name: &str) -> Option<&[u8]> {
        let i = self.all.binary_search_by(|(n, _)| n.as_str().cmp(name)).ok()?;
        if let Some(only) = &self.only
            && only.binary_search(&i).is_err()
        {
            return None;
        }
        Some(&self.all[i].1)
    }

    fn get(&self, name: &str) -> &[u8] {
        self.find(name).unwrap_or_default()
    }

    /// `AsConfig`/`AsSecrets`: base names to contents, through `toYaml`.
    fn as_yaml(&self, encode: impl Fn(&[u8]) -> String) -> String {
        let m = Map::new();
        for (k, v) in self.entries() {
            let base = k.rsplit('/').next().unwrap_or(k);
            m.insert(base, Value::from(encode(v)));
        }
        crate::gotmpl::helm::yaml::to_yaml(&Value::Map(m)).unwrap_or_default()
    }

    fn glob(&self, pattern: &str) -> Files {
        // helm: a pattern that does not compile matches everything ("**").
        let glob = Glob::parse(pattern).unwrap_or_else(Glob::everything);
        let all = 0..self.all.len();
        let candidates: Vec<usize> = self.only.as_ref().map_or_else(|| all.collect(), |o| o.as_ref().clone());
        let only = candidates.into_iter().filter(|&i| glob.matches(&self.all[i].0)).collect();
        Files { all: self.all.clone(), only: Some(Rc::new(only)) }
    }
}

fn string_arg(a: &[Value]) -> &str {
    a.first().and_then(Value::as_str).unwrap_or_default()
}

impl Object for Files {
    fn type_name(&self) -> &str {
        "engine.files"
    }
    fn kind(&self) -> &str {
        "map"
    }
    fn method(&self, name: &str) -> Option<Func> {
        let f = self.clone();
        Some(match name {
            "Get" => {
                Func::typed("Get", &[Param::String], false, move |_, a| Ok(Value::from_bytes(f.get(string_arg(a)))))
            }
            "GetBytes" => {
                Func::typed("GetBytes", &[Param::String], false, move |_, a| Ok(bytes_value(f.get(string_arg(a)))))
            }
            "Glob" => Func::typed("Glob", &[Param::String], false, move |_, a| {
                Ok(Value::Object(Rc::new(f.glob(string_arg(a)))))
            }),
            "AsConfig" => Func::typed("AsConfig", &[], false, move |_, _| {
                Ok(Value::from(f.as_yaml(|b| String::from_utf8_lossy(b).into_owned())))
            }),
            "AsSecrets" => Func::typed("AsSecrets", &[], false, move |_, _| {
                Ok(Value::from(f.as_yaml(|b| base64::engine::general_purpose::STANDARD.encode(b))))
            }),
            "Lines" => Func::typed("Lines", &[Param::String], false, move |_, a| {
                let name = string_arg(a);
                let Some(b) = f.find(name) else { return Ok(Value::string_list(Vec::new())) };
                let mut s = String::from_utf8_lossy(b).into_owned();
                if s.ends_with('\n') {
                    s.pop();
                }
                Ok(Value::string_list(s.split('\n').map(String::from).collect()))
            }),
            _ => return None,
        })
    }
    fn underlying(&self) -> Option<Value> {
        let m: BTreeMap<String, Value> = self.entries().map(|(k, v)| (k.to_string(), bytes_value(v))).collect();
        Some(Value::Map(Map { entries: Rc::new(std::cell::RefCell::new(m)), ty: "engine.files" }))
    }
    fn fmt_v(&self) -> String {
        let parts: Vec<String> = self
            .entries()
            .map(|(k, v)| format!("{k}:[{}]", v.iter().map(u8::to_string).collect::<Vec<_>>().join(" ")))
            .collect();
        format!("map[{}]", parts.join(" "))
    }
}

/// The API versions `helm template` reports by default (client-go's
/// scheme, in its order, as helm 4.1.4 prints them).
pub const DEFAULT_API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "admissionregistration.k8s.io/v1alpha1",
    "admissionregistration.k8s.io/v1beta1",
    "internal.apiserver.k8s.io/v1alpha1",
    "apps/v1",
    "apps/v1beta1",
    "apps/v1beta2",
    "authentication.k8s.io/v1",
    "authentication.k8s.io/v1alpha1",
    "authentication.k8s.io/v1beta1",
    "authorization.k8s.io/v1",
    "authorization.k8s.io/v1beta1",
    "autoscaling/v1",
    "autoscaling/v2",
    "autoscaling/v2beta1",
    "autoscaling/v2beta2",
    "batch/v1",
    "batch/v1beta1",
    "certificates.k8s.io/v1",
    "certificates.k8s.io/v1beta1",
    "certificates.k8s.io/v1alpha1",
    "coordination.k8s.io/v1alpha2",
    "coordination.k8s.io/v1beta1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "discovery.k8s.io/v1beta1",
    "events.k8s.io/v1",
    "events.k8s.io/v1beta1",
    "extensions/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1beta2",
    "flowcontrol.apiserver.k8s.io/v1beta3",
    "networking.k8s.io/v1",
    "networking.k8s.io/v1beta1",
    "node.k8s.io/v1",
    "node.k8s.io/v1alpha1",
    "node.k8s.io/v1beta1",
    "policy/v1",
    "policy/v1beta1",
    "rbac.authorization.k8s.io/v1",
    "rbac.authorization.k8s.io/v1beta1",
    "rbac.authorization.k8s.io/v1alpha1",
    "resource.k8s.io/v1",
    "resource.k8s.io/v1beta2",
    "resource.k8s.io/v1beta1",
    "resource.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1alpha1",
    "scheduling.k8s.io/v1beta1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1beta1",
    "storage.k8s.io/v1",
    "storage.k8s.io/v1alpha1",
    "storagemigration.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1",
];

/// helm 4.1.4's build information (`.Capabilities.HelmVersion`).
const HELM_VERSION: [(&str, &str, &str); 5] = [
    ("Version", "version", "v4.1.4"),
    ("GitCommit", "git_commit", "05fa37973dc9e42b76e1d2883494c87174b6074f"),
    ("GitTreeState", "git_tree_state", "clean"),
    ("GoVersion", "go_version", "go1.25.9"),
    ("KubeClientVersion", "kube_client_version", "v1.35"),
];

/// `.Capabilities` (`*common.Capabilities`).
#[derive(Debug)]
pub struct Capabilities {
    kube: Rc<KubeVersion>,
    apis: Rc<VersionSet>,
}

impl Capabilities {
    pub fn new(settings: &ReleaseSettings) -> Capabilities {
        let mut versions: Vec<String> = DEFAULT_API_VERSIONS.iter().map(|s| s.to_string()).collect();
        versions.extend(settings.api_versions.iter().cloned());
        Capabilities { kube: Rc::new(KubeVersion::parse(&settings.kube_version)), apis: Rc::new(VersionSet(versions)) }
    }
}

impl Object for Capabilities {
    fn type_name(&self) -> &str {
        "*common.Capabilities"
    }
    fn field(&self, name: &str) -> Option<Value> {
        Some(match name {
            "KubeVersion" => Value::Object(self.kube.clone()),
            "APIVersions" => Value::Object(self.apis.clone()),
            "HelmVersion" => Value::Object(Rc::new(BuildInfo)),
            _ => return None,
        })
    }
    fn marshal_value(&self) -> Option<Value> {
        let m = Map::new();
        for f in ["KubeVersion", "APIVersions", "HelmVersion"] {
            let v = self.field(f).unwrap_or(Value::Nil);
            let v = match &v {
                Value::Object(o) => o.marshal_value().or_else(|| o.underlying()).unwrap_or(Value::Nil),
                _ => v,
            };
            m.insert(f, v);
        }
        Some(Value::Map(m))
    }
}

/// `.Capabilities.KubeVersion` (`common.KubeVersion`).
#[derive(Debug)]
pub struct KubeVersion {
    version: String,
    normalized: String,
    major: String,
    minor: String,
}

impl KubeVersion {
    /// helm's `ParseKubeVersion` (k8s' generic versions: `1.30`, `v1.30.2-gke.1`).
    pub fn parse(v: &str) -> KubeVersion {
        let version = if v.starts_with('v') { v.to_string() } else { format!("v{v}") };
        let nums: Vec<u64> =
            version[1..].split(|c: char| !c.is_ascii_digit()).take(3).map(|p| p.parse().unwrap_or(0)).collect();
        let n = |i: usize| nums.get(i).copied().unwrap_or(0);
        KubeVersion {
            normalized: format!("v{}.{}.{}", n(0), n(1), n(2)),
            major: n(0).to_string(),
            minor: n(1).to_string(),
            version,
        }
    }
}

impl Object for KubeVersion {
    fn type_name(&self) -> &str {
        "common.KubeVersion"
    }
    fn kind(&self) -> &str {
        "struct"
    }
    fn field(&self, name: &str) -> Option<Value> {
        Some(Value::from(match name {
            "Version" => self.version.as_str(),
            "Major" => self.major.as_str(),
            "Minor" => self.minor.as_str(),
            _ => return None,
        }))
    }
    fn method(&self, name: &str) -> Option<Func> {
        let v = self.version.clone();
        let s = self.normalized.clone();
        match name {
            "GitVersion" => Some(Func::typed("GitVersion", &[], false, move |_, _| Ok(Value::from(v.clone())))),
            "String" => Some(Func::typed("String", &[], false, move |_, _| Ok(Value::from(s.clone())))),
            _ => None,
        }
    }
    fn string(&self) -> Option<String> {
        Some(self.normalized.clone())
    }
    fn marshal_value(&self) -> Option<Value> {
        let m = Map::new();
        for f in ["Version", "Major", "Minor"] {
            m.insert(f, self.field(f).unwrap_or(Value::Nil));
        }
        Some(Value::Map(m))
    }
}

/// `.Capabilities.APIVersions` (`common.VersionSet`, a `[]string` with `Has`).
#[derive(Debug)]
pub struct VersionSet(Vec<String>);

impl Object for VersionSet {
    fn type_name(&self) -> &str {
        "common.VersionSet"
    }
    fn kind(&self) -> &str {
        "slice"
    }
    fn method(&self, name: &str) -> Option<Func> {
        if name != "Has" {
            return None;
        }
        let set = self.0.clone();
        Some(Func::typed("Has", &[Param::String], false, move |_, a| {
            Ok(Value::Bool(set.iter().any(|v| v == string_arg(a))))
        }))
    }
    fn underlying(&self) -> Option<Value> {
        Some(Value::string_list(self.0.clone()))
    }
}

/// `.Capabilities.HelmVersion` (`version.BuildInfo`).
#[derive(Debug)]
struct BuildInfo;

impl Object for BuildInfo {
    fn type_name(&self) -> &str {
        "version.BuildInfo"
    }
    fn kind(&self) -> &str {
        "struct"
    }
    fn field(&self, name: &str) -> Option<Value> {
        HELM_VERSION.iter().find(|f| f.0 == name).map(|f| Value::str(f.2))
    }
    fn fmt_v(&self) -> String {
        format!("{{{}}}", HELM_VERSION.iter().map(|f| f.2).collect::<Vec<_>>().join(" "))
    }
    fn marshal_value(&self) -> Option<Value> {
        let m = Map::new();
        for (_, json, v) in HELM_VERSION {
            m.insert(json, Value::str(v));
        }
        Some(Value::Map(m))
    }
}

/// `.Release` for `helm template`.
pub fn release(settings: &ReleaseSettings) -> Value {
    let m = Map::new();
    m.insert("Name", Value::from(settings.name.as_str()));
    m.insert("Namespace", Value::from(settings.namespace.as_str()));
    m.insert("IsInstall", Value::Bool(!settings.is_upgrade));
    m.insert("IsUpgrade", Value::Bool(settings.is_upgrade));
    m.insert("Revision", Value::int(settings.revision));
    m.insert("Service", Value::str("Helm"));
    Value::Map(m)
}

/// `.Chart`: `Chart.yaml` as helm's `structToMap` sees the metadata struct
/// (every field, empty ones included), with `IsRoot`.
pub fn chart_map(chart: &Chart, is_root: bool) -> Value {
    let raw = &chart.meta.raw;
    let s = |k: &str| -> Value {
        Value::from(match raw.get(k) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            Some(serde_json::Value::Bool(b)) => b.to_string(),
            _ => String::new(),
        })
    };
    let strings = |v: Option<&serde_json::Value>| -> Value {
        let items = match v {
            Some(serde_json::Value::Array(a)) => a.iter().map(json_string).map(Value::from).collect(),
            _ => Vec::new(),
        };
        Value::list(items)
    };
    let m = Map::new();
    for k in ["apiVersion", "appVersion", "condition", "description", "home", "icon", "kubeVersion", "tags", "type"] {
        let key = if k == "apiVersion" { "APIVersion".to_string() } else { capitalize(k) };
        m.insert(key, s(k));
    }
    m.insert("Name", Value::from(chart.meta.name.as_str()));
    m.insert("Version", Value::from(chart.meta.version.as_str()));
    m.insert("Deprecated", Value::Bool(raw.get("deprecated").and_then(serde_json::Value::as_bool).unwrap_or(false)));
    m.insert("IsRoot", Value::Bool(is_root));
    m.insert("Keywords", strings(raw.get("keywords")));
    m.insert("Sources", strings(raw.get("sources")));
    let annotations = match raw.get("annotations") {
        Some(serde_json::Value::Object(a)) => {
            let entries = a.iter().map(|(k, v)| (k.clone(), Value::from(json_string(v)))).collect();
            Value::Map(Map { entries: Rc::new(std::cell::RefCell::new(entries)), ty: "map[string]string" })
        }
        _ => Value::Nil,
    };
    m.insert("Annotations", annotations);
    let maintainers = match raw.get("maintainers") {
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .map(|x| {
                let mm = Map::new();
                for (k, key) in [("email", "Email"), ("name", "Name"), ("url", "URL")] {
                    mm.insert(key, Value::from(x.get(k).map(json_string).unwrap_or_default()));
                }
                Value::Map(mm)
            })
            .collect(),
        _ => Vec::new(),
    };
    m.insert("Maintainers", Value::list(maintainers));
    let deps = chart.meta.dependencies.iter().flatten().map(|d| {
        let dm = Map::new();
        dm.insert("Name", Value::from(d.name.as_str()));
        dm.insert("Version", Value::from(d.version.as_str()));
        dm.insert("Repository", Value::from(d.repository.as_str()));
        dm.insert("Condition", Value::from(d.condition.as_str()));
        dm.insert("Tags", Value::list(d.tags.iter().map(|t| Value::from(t.as_str())).collect()));
        dm.insert("Enabled", Value::Bool(d.enabled));
        dm.insert("ImportValues", Value::list(d.import_values.iter().map(Value::from_json).collect()));
        dm.insert("Alias", Value::from(d.alias.as_str()));
        Value::Map(dm)
    });
    m.insert("Dependencies", Value::list(deps.collect()));
    Value::Map(m)
}

fn json_string(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn capitalize(k: &str) -> String {
    let mut c = k.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// A `map[string]interface {}` with `entries`.
pub fn plain_map(entries: Vec<(&str, Value)>) -> Map {
    let m = Map { entries: Rc::default(), ty: MAP_TYPE };
    for (k, v) in entries {
        m.insert(k, v);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gotmpl::Templates;

    fn run(tpl: &str, dot: Value) -> String {
        let mut set = Templates::new();
        crate::gotmpl::helm::add_helm(&mut set);
        set.parse("t", tpl).unwrap();
        set.execute("t", &dot).unwrap_or_else(|e| e.to_string())
    }

    fn files() -> Value {
        let entries = [("files/a.txt", "a\nb\n"), ("files/sub/b.yaml", "k: v"), (".helmignore", "x\n")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect();
        Value::Object(Rc::new(Files::new(Arc::new(entries))))
    }

    #[test]
    fn files_methods_as_helm() {
        let dot = Value::Map(plain_map(vec![("Files", files())]));
        // Facts from helm 4.1.4 on the same files.
        assert_eq!(
            run(r#"{{ .Files.Get "files/a.txt" | quote }}|{{ .Files.Get "nope" | quote }}"#, dot.clone()),
            r#""a\nb\n"|"""#
        );
        assert_eq!(
            run(r#"{{ $b := .Files.GetBytes "files/a.txt" }}{{ printf "%T %v" $b $b }}"#, dot.clone()),
            "[]uint8 [97 10 98 10]"
        );
        assert_eq!(
            run(r#"{{ range $k, $v := .Files.Glob "files/*" }}{{ $k }};{{ end }}"#, dot.clone()),
            "files/a.txt;"
        );
        assert_eq!(
            run(r#"{{ range $k, $v := .Files.Glob "**.yaml" }}{{ $k }};{{ end }}"#, dot.clone()),
            "files/sub/b.yaml;"
        );
        assert_eq!(
            run(
                r#"{{ .Files.Lines "files/a.txt" | toJson }} {{ .Files.Lines "nope" | toJson }} {{ len .Files }}"#,
                dot.clone()
            ),
            r#"["a","b"] [] 3"#
        );
        assert_eq!(
            run(r#"{{ (.Files.Glob "files/**").AsConfig | toJson }}"#, dot.clone()),
            r#""a.txt: |\n  a\n  b\nb.yaml: 'k: v'""#
        );
        assert_eq!(
            run(r#"{{ (.Files.Glob "files/**").AsSecrets | toJson }}"#, dot.clone()),
            r#""a.txt: YQpiCg==\nb.yaml: azogdg==""#
        );
        assert_eq!(
            run(r#"{{ .Files | toJson }}"#, dot),
            r#"{".helmignore":"eAo=","files/a.txt":"YQpiCg==","files/sub/b.yaml":"azogdg=="}"#
        );
    }

    /// kube-prometheus-stack's `crds.bz2: {{ .Files.Get "files/crds.bz2" | b64enc }}`:
    /// a binary file's string keeps its bytes, as Go's strings do.
    #[test]
    fn binary_files_keep_their_bytes() {
        let bin: &[u8] = b"BZh\x80\xff\xfe\x00ab\xc3\xa9\xe2\x82";
        let files = Files::new(Arc::new(vec![("files/bin".to_string(), bin.to_vec())]));
        let dot = Value::Map(plain_map(vec![("Files", Value::Object(Rc::new(files)))]));
        // Facts from helm 4.1.4 on the same file.
        let cases = [
            (r#"{{ .Files.Get "files/bin" | b64enc }}"#, "QlpogP/+AGFiw6nigg=="),
            (r#"{{ .Files.Get "files/bin" | b32enc }}"#, "IJNGRAH77YAGCYWDVHRIE==="),
            (
                r#"{{ .Files.Get "files/bin" | sha256sum }}"#,
                "8016b03d256cda9d90625151267724e11f4c3df075d8f5efff78c691fedd0888",
            ),
            (r#"{{ .Files.Get "files/bin" | sha1sum }}"#, "258c92a27b068bd14103e4f986f1476abeceadd8"),
            (r#"{{ .Files.Get "files/bin" | adler32sum }}"#, "763037461"),
            (r#"{{ .Files.Get "files/bin" | len }}"#, "13"),
            (r#"{{ $v := .Files.Get "files/bin" }}{{ $v | default "x" | b64enc }}"#, "QlpogP/+AGFiw6nigg=="),
            (
                r#"{{ define "h" }}{{ . | b64enc }}{{ end }}{{ include "h" (.Files.Get "files/bin") }}"#,
                "QlpogP/+AGFiw6nigg==",
            ),
            (r#"{{ .Files.GetBytes "files/bin" | toString | b64enc }}"#, "QlpogP/+AGFiw6nigg=="),
            (r#"{{ .Files.Get "files/bin" | quote | b64enc }}"#, "IkJaaFx4ODBceGZmXHhmZVx4MDBhYsOpXHhlMlx4ODIi"),
            // other functions read the text, each invalid byte a U+FFFD
            (r#"{{ .Files.Get "files/bin" | upper | b64enc }}"#, "QlpI77+977+977+9AEFCw4nvv73vv70="),
            (
                r#"{{ printf "%T %v" (.Files.Get "files/bin") (eq (.Files.Get "files/bin") (.Files.Get "files/bin")) }}"#,
                "string true",
            ),
        ];
        for (tpl, want) in cases {
            assert_eq!(run(tpl, dot.clone()), want, "{tpl}");
        }
    }

    #[test]
    fn capabilities_as_helm_template() {
        let caps = Value::Object(Rc::new(Capabilities::new(&ReleaseSettings::default())));
        let dot = Value::Map(plain_map(vec![("Capabilities", caps)]));
        assert_eq!(
            run(
                r#"{{ .Capabilities.KubeVersion }} {{ .Capabilities.KubeVersion.Version }} {{ .Capabilities.KubeVersion.GitVersion }} {{ .Capabilities.KubeVersion.Major }}.{{ .Capabilities.KubeVersion.Minor }}"#,
                dot.clone()
            ),
            "v1.35.0 v1.35.0 v1.35.0 1.35"
        );
        assert_eq!(
            run(
                r#"{{ .Capabilities.APIVersions.Has "apps/v1" }} {{ .Capabilities.APIVersions.Has "apps/v1/Deployment" }} {{ len .Capabilities.APIVersions }}"#,
                dot.clone()
            ),
            "true false 57"
        );
        assert_eq!(
            run(r#"{{ .Capabilities.HelmVersion }} {{ printf "%T" .Capabilities }}"#, dot.clone()),
            "{v4.1.4 05fa37973dc9e42b76e1d2883494c87174b6074f clean go1.25.9 v1.35} *common.Capabilities"
        );
        let json = run(r#"{{ toJson .Capabilities }}"#, dot);
        assert!(json.starts_with(r#"{"APIVersions":["v1","admissionregistration.k8s.io/v1","#), "{json}");
        assert!(json.ends_with(r#""HelmVersion":{"git_commit":"05fa37973dc9e42b76e1d2883494c87174b6074f","git_tree_state":"clean","go_version":"go1.25.9","kube_client_version":"v1.35","version":"v4.1.4"},"KubeVersion":{"Major":"1","Minor":"35","Version":"v1.35.0"}}"#), "{json}");
    }

    #[test]
    fn kube_versions_parse_as_helm() {
        let k = KubeVersion::parse("1.30");
        assert_eq!(
            (k.version.as_str(), k.normalized.as_str(), k.major.as_str(), k.minor.as_str()),
            ("v1.30", "v1.30.0", "1", "30")
        );
        let k = KubeVersion::parse("v1.33.4-gke.1245000");
        assert_eq!((k.version.as_str(), k.normalized.as_str()), ("v1.33.4-gke.1245000", "v1.33.4"));
    }
}
