//! Exporters, one module per format (the hyperfine shape): OpenMetrics and Prometheus text
//! (both encoded by `prometheus-client`), CSV of the samples, a JSON summary, an atomic file
//! writer for node_exporter's textfile collector, and a live scrape endpoint.

mod atomic;
mod csv;
mod json;
mod live;
mod metrics;
mod openmetrics;
mod prometheus_text;

pub use self::atomic::write_atomically;
pub use self::csv::render_csv;
pub use self::json::render_json;
pub use self::live::{LiveEndpoint, app};
pub use self::metrics::{LiveMetrics, MetricLabels, MetricValues};
pub use self::openmetrics::{OPENMETRICS_CONTENT_TYPE, render_openmetrics};
pub use self::prometheus_text::{PROMETHEUS_TEXT_CONTENT_TYPE, render_prometheus_text};
