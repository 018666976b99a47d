//! The service's own Prometheus metrics (`GET /metrics`).

use std::sync::atomic::Ordering;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Label set of `enrichment_omdb_errors_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    /// Error class, see [`crate::OmdbError::kind`].
    pub kind: &'static str,
}

/// Counters and gauges exported on `/metrics`, ground truth for the harness's tests.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    clients_built: Counter,
    clients_alive: Gauge,
    clients_alive_max: Gauge,
    omdb_calls: Counter,
    omdb_errors: Family<ErrorLabels, Counter>,
    movies_requests: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let metrics = Self {
            clients_built: Counter::default(),
            clients_alive: Gauge::default(),
            clients_alive_max: Gauge::default(),
            omdb_calls: Counter::default(),
            omdb_errors: Family::default(),
            movies_requests: Counter::default(),
            registry: Registry::default(),
        };
        registry.register(
            "enrichment_http_clients_built",
            "reqwest::Client instances built for OMDB calls",
            metrics.clients_built.clone(),
        );
        registry.register(
            "enrichment_http_clients_alive",
            "reqwest::Client handles currently alive",
            metrics.clients_alive.clone(),
        );
        registry.register(
            "enrichment_http_clients_alive_max",
            "Most reqwest::Client handles alive at the same time since start",
            metrics.clients_alive_max.clone(),
        );
        registry.register(
            "enrichment_omdb_calls",
            "OMDB calls attempted",
            metrics.omdb_calls.clone(),
        );
        registry.register(
            "enrichment_omdb_errors",
            "OMDB calls that failed, by kind",
            metrics.omdb_errors.clone(),
        );
        registry.register(
            "enrichment_movies_requests",
            "GET /movies requests received",
            metrics.movies_requests.clone(),
        );
        Self {
            registry,
            ..metrics
        }
    }

    /// Records a client being built (and now alive).
    pub fn client_built(&self) {
        self.clients_built.inc();
        let alive = self.clients_alive.inc() + 1;
        self.clients_alive_max
            .inner()
            .fetch_max(alive, Ordering::Relaxed);
    }

    /// Records a client handle being dropped.
    pub fn client_dropped(&self) {
        self.clients_alive.dec();
    }

    /// Records one OMDB call attempt.
    pub fn omdb_call(&self) {
        self.omdb_calls.inc();
    }

    /// Records one failed OMDB call (or client build) of class `kind`.
    pub fn omdb_error(&self, kind: &'static str) {
        self.omdb_errors.get_or_create(&ErrorLabels { kind }).inc();
    }

    /// Records one `GET /movies` request.
    pub fn movies_request(&self) {
        self.movies_requests.inc();
    }

    /// The OpenMetrics text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}
