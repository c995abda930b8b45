//! `GET /metrics`: the agent's counters in Prometheus' text format (0.0.4),
//! per app: reconciles and failed reconciles, syncs, heals and failed
//! syncs, drift seen, reconcile durations as a histogram, and an info
//! gauge carrying the source and synced revisions, sync status and health.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use super::reconcile::AppReport;

/// Upper bounds (seconds) of the reconcile duration histogram.
const BUCKETS: [f64; 11] = [0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0];

#[derive(Debug, Clone, Default)]
struct AppMetrics {
    reconciles: u64,
    errors: u64,
    drifts: u64,
    /// Observations per bucket (not cumulative), the last one +Inf.
    buckets: [u64; BUCKETS.len() + 1],
    seconds: f64,
    last: Option<AppReport>,
}

/// Every app's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    apps: BTreeMap<String, AppMetrics>,
}

impl Metrics {
    /// Count one finished reconcile that took `took`.
    pub fn observe(&mut self, report: &AppReport, took: Duration) {
        let m = self.apps.entry(report.app.clone()).or_default();
        m.reconciles += 1;
        if report.error.is_some() {
            m.errors += 1;
        }
        if report.action.starts_with("drifted") || report.action.starts_with("heal") {
            m.drifts += 1;
        }
        let secs = took.as_secs_f64();
        let i = BUCKETS.iter().position(|b| secs <= *b).unwrap_or(BUCKETS.len());
        m.buckets[i] += 1;
        m.seconds += secs;
        m.last = Some(report.clone());
    }

    /// Forget apps no longer read.
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.apps.retain(|name, _| keep(name));
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, value: &dyn Fn(&AppMetrics) -> u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for (app, m) in &self.apps {
                let _ = writeln!(out, "{name}{{app=\"{}\"}} {}", escape(app), value(m));
            }
        };
        counter("kubectl_gitops_reconciles_total", "Reconciles of the app.", &|m| m.reconciles);
        counter("kubectl_gitops_reconcile_errors_total", "Reconciles that ended with an error.", &|m| m.errors);
        counter(
            "kubectl_gitops_drift_total",
            "Reconciles that found the app drifted from its synced revision.",
            &|m| m.drifts,
        );
        let last = |m: &AppMetrics, f: fn(&AppReport) -> u64| m.last.as_ref().map_or(0, f);
        counter("kubectl_gitops_syncs_total", "Syncs (heals included) the agent ran.", &|m| last(m, |r| r.syncs));
        counter("kubectl_gitops_heals_total", "Syncs that healed drift.", &|m| last(m, |r| r.heals));
        counter("kubectl_gitops_sync_failures_total", "Syncs that failed.", &|m| last(m, |r| r.failures));
        let name = "kubectl_gitops_reconcile_duration_seconds";
        let _ = writeln!(out, "# HELP {name} How long one reconcile took.\n# TYPE {name} histogram");
        for (app, m) in &self.apps {
            let app = escape(app);
            let mut cumulative = 0;
            for (i, bound) in BUCKETS.iter().enumerate() {
                cumulative += m.buckets[i];
                let _ = writeln!(out, "{name}_bucket{{app=\"{app}\",le=\"{bound}\"}} {cumulative}");
            }
            cumulative += m.buckets[BUCKETS.len()];
            let _ = writeln!(out, "{name}_bucket{{app=\"{app}\",le=\"+Inf\"}} {cumulative}");
            let _ = writeln!(out, "{name}_sum{{app=\"{app}\"}} {}", m.seconds);
            let _ = writeln!(out, "{name}_count{{app=\"{app}\"}} {}", m.reconciles);
        }
        let name = "kubectl_gitops_app_info";
        let _ = writeln!(
            out,
            "# HELP {name} The app as last reconciled: revisions, sync status and health.\n# TYPE {name} gauge"
        );
        for (app, m) in &self.apps {
            let Some(r) = &m.last else { continue };
            let _ = writeln!(
                out,
                "{name}{{app=\"{}\",context=\"{}\",revision=\"{}\",synced_revision=\"{}\",sync=\"{}\",health=\"{}\",automated=\"{}\"}} 1",
                escape(app),
                escape(&r.context),
                escape(r.revision.as_deref().unwrap_or("")),
                escape(r.synced_revision.as_deref().unwrap_or("")),
                escape(&r.sync),
                escape(&r.health),
                r.automated
            );
        }
        out
    }
}

/// A label value as the text format writes it.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(app: &str, action: &str, error: Option<&str>) -> AppReport {
        AppReport {
            app: app.into(),
            context: "east".into(),
            automated: true,
            self_heal: true,
            sync: "Synced".into(),
            health: "Healthy".into(),
            revision: Some("c2".into()),
            synced_revision: Some("c1".into()),
            action: action.into(),
            written: Vec::new(),
            error: error.map(String::from),
            syncs: 3,
            heals: 1,
            failures: 1,
        }
    }

    #[test]
    fn counters_histogram_and_info() {
        let mut m = Metrics::default();
        m.observe(&report("web", "synced", None), Duration::from_millis(300));
        m.observe(&report("web", "healed", None), Duration::from_secs(7));
        m.observe(&report("a\"b", "failed", Some("boom")), Duration::from_secs(1000));
        let text = m.render();
        for line in [
            "kubectl_gitops_reconciles_total{app=\"web\"} 2",
            "kubectl_gitops_reconcile_errors_total{app=\"a\\\"b\"} 1",
            "kubectl_gitops_drift_total{app=\"web\"} 1",
            "kubectl_gitops_syncs_total{app=\"web\"} 3",
            "kubectl_gitops_reconcile_duration_seconds_bucket{app=\"web\",le=\"0.25\"} 0",
            "kubectl_gitops_reconcile_duration_seconds_bucket{app=\"web\",le=\"0.5\"} 1",
            "kubectl_gitops_reconcile_duration_seconds_bucket{app=\"web\",le=\"10\"} 2",
            "kubectl_gitops_reconcile_duration_seconds_bucket{app=\"a\\\"b\",le=\"300\"} 0",
            "kubectl_gitops_reconcile_duration_seconds_bucket{app=\"a\\\"b\",le=\"+Inf\"} 1",
            "kubectl_gitops_reconcile_duration_seconds_count{app=\"web\"} 2",
            "kubectl_gitops_app_info{app=\"web\",context=\"east\",revision=\"c2\",synced_revision=\"c1\",sync=\"Synced\",health=\"Healthy\",automated=\"true\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "no line {line:?} in\n{text}");
        }
        m.retain(|a| a == "web");
        assert!(!m.render().contains("a\\\"b"));
    }
}
