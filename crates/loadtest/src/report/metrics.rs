//! `metrics.prom` (Prometheus text, for node_exporter's textfile collector) and
//! `metrics.openmetrics` (OpenMetrics, ends with `# EOF`), rendered by memwatch.

use super::{Report, ReportError};
use crate::outcome::RunOutcome;

/// Prometheus text exposition 0.0.4.
pub struct PrometheusText;

impl Report for PrometheusText {
    fn file_name(&self) -> &'static str {
        "metrics.prom"
    }
    fn kind(&self) -> &'static str {
        "prometheus"
    }
    fn render(&self, o: &RunOutcome) -> Result<Vec<u8>, ReportError> {
        Ok(memwatch::render_prometheus_text(&o.labels, &o.metric_values).into_bytes())
    }
}

/// OpenMetrics text.
pub struct OpenMetrics;

impl Report for OpenMetrics {
    fn file_name(&self) -> &'static str {
        "metrics.openmetrics"
    }
    fn kind(&self) -> &'static str {
        "openmetrics"
    }
    fn render(&self, o: &RunOutcome) -> Result<Vec<u8>, ReportError> {
        Ok(memwatch::render_openmetrics(&o.labels, &o.metric_values).into_bytes())
    }
}
