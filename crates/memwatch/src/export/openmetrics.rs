//! OpenMetrics text exposition (ends with `# EOF`).

use super::metrics::{MetricLabels, MetricValues, registry};

/// The `Content-Type` of OpenMetrics text.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Renders the metrics as OpenMetrics text, ending with `# EOF`.
pub fn render_openmetrics(labels: &MetricLabels, values: &MetricValues) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, &registry(labels, values));
    out
}
