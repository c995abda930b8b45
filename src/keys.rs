//! Every label and annotation key the tool reads or writes, in one place.

/// Argo CD's sync wave annotation.
pub const SYNC_WAVE: &str = "argocd.argoproj.io/sync-wave";
/// Argo CD's hook annotation.
pub const HOOK: &str = "argocd.argoproj.io/hook";
/// Argo CD's per-object sync options annotation (`Prune=false`, ...).
pub const SYNC_OPTIONS: &str = "argocd.argoproj.io/sync-options";
/// Argo CD's annotation tracking: `<app>:<group>/<kind>:<namespace>/<name>`.
pub const TRACKING_ID: &str = "argocd.argoproj.io/tracking-id";
/// Argo CD's compare options on an object (`IgnoreExtraneous`).
pub const COMPARE_OPTIONS: &str = "argocd.argoproj.io/compare-options";
/// The field manager used for server-side apply.
pub const FIELD_MANAGER: &str = "kubectl-gitops";
/// `Chart.yaml` annotation naming a chart's template language: `jinja`
/// (rendered by the built-in minijinja renderer) or `go` (helm's own syntax,
/// rendered by a plugin such as `plugins/helm.yaml`).
pub const CHART_TEMPLATE_ENGINE: &str = "kubectl-gitops.io/template-engine";
/// kubectl's client-side apply annotation (noise in a diff).
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// Argo CD's hook deletion policy annotation.
pub const HOOK_DELETE_POLICY: &str = "argocd.argoproj.io/hook-delete-policy";
/// Helm's hook annotation.
pub const HELM_HOOK: &str = "helm.sh/hook";
/// Helm's hook weight (the wave of a Helm hook).
pub const HELM_HOOK_WEIGHT: &str = "helm.sh/hook-weight";
/// Helm's hook deletion policy.
pub const HELM_HOOK_DELETE_POLICY: &str = "helm.sh/hook-delete-policy";
