//! Prometheus text exposition 0.0.4, the format node_exporter's textfile collector reads.

use super::metrics::{MetricLabels, MetricValues, registry};

/// The `Content-Type` of Prometheus text 0.0.4.
pub const PROMETHEUS_TEXT_CONTENT_TYPE: &str =
    prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Renders the metrics as Prometheus text 0.0.4 (no `# EOF`, no `# UNIT`).
pub fn render_prometheus_text(labels: &MetricLabels, values: &MetricValues) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ =
        prometheus_client::encoding::prometheus_text::encode(&mut out, &registry(labels, values));
    out
}
