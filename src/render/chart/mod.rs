//! Helm-style charts whose templates are Jinja, rendered with minijinja.
//!
//! Pipeline: [`load::load_chart`] reads the chart tree, [`values`] builds
//! `.Values` exactly as helm does (user values, dependencies, coalescing),
//! [`schema`] validates them, [`engine`] renders every template with helm's
//! built-in objects, and the output is decoded like `helm template`'s.
//!
//! A chart is a Jinja chart when its `Chart.yaml` has the annotation
//! `kubectl-gitops.io/template-engine: jinja`, or, without that annotation,
//! when one of its templates ends in `.j2`. Any other chart with templates
//! is a Go-template chart: it is never given to minijinja; it renders
//! through a plugin (`plugins/helm.yaml`) or fails with a clear error.

pub mod ignore;
pub mod load;
pub mod semver;
pub mod strvals;
pub mod values;

use std::path::Path;

use crate::error::{Error, Result};
use load::Chart;
use values::{ValueOptions, Values};

/// The top chart's `.Values` for the user's values, as `helm template`
/// computes them; also applies the dependencies' conditions, tags, aliases
/// and import-values to `chart`. Relative paths in `opts` are taken from `cwd`.
pub fn chart_values(chart: &mut Chart, opts: &ValueOptions, cwd: &Path) -> Result<Values> {
    let user = values::user_values(opts, cwd).map_err(Error::Usage)?;
    let dir = chart.dir.clone();
    let chart_err = |message: String| Error::Chart { path: dir.clone(), message };
    values::process_dependencies(chart, &user).map_err(chart_err)?;
    values::coalesce_values(chart, &user).map_err(chart_err)
}
