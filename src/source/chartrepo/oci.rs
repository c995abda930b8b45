//! Charts in OCI registries.

use super::{ChartRef, FetchedChart, Fetcher};
use crate::error::{Error, Result};

pub(super) fn fetch(_f: &Fetcher, chart: &ChartRef) -> Result<FetchedChart> {
    Err(Error::Usage(format!("{}: OCI registries are not supported yet", chart.repo)))
}
