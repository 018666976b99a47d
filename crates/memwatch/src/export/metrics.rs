//! The metric set (names per DESIGN: `oomguard_` prefix, base units, `scenario`/`service` labels)
//! and the values behind it.

use std::borrow::Cow;
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, PoisonError};

use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};
use serde::Serialize;

use crate::limit::CgroupStats;
use crate::sample::{MemoryReport, Peaks, Sample};

/// The labels every metric carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetricLabels {
    /// Scenario name, e.g. `oom-repro`.
    pub scenario: String,
    /// Service name, e.g. `enrichment-service`.
    pub service: String,
}

/// The values exported; `None` metrics are left out of the exposition.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MetricValues {
    /// Current (or last) tree RSS.
    pub rss_bytes: u64,
    /// Peak tree RSS: the larger of the sampled peak and the kernel's per-process `VmHWM`.
    pub rss_peak_bytes: u64,
    /// The RSS budget the gate checks against.
    pub rss_budget_bytes: Option<u64>,
    /// Current tree RSS + swap.
    pub rss_plus_swap_bytes: u64,
    /// Peak tree RSS + swap.
    pub rss_plus_swap_peak_bytes: u64,
    /// Current tree swap.
    pub swap_bytes: u64,
    /// Highest `VmHWM` of a single process.
    pub hwm_bytes: u64,
    /// Open file descriptors now.
    pub open_fds: u64,
    /// Most open file descriptors.
    pub open_fds_peak: u64,
    /// Open sockets now.
    pub sockets: u64,
    /// Most open sockets.
    pub sockets_peak: u64,
    /// Threads now.
    pub threads: u64,
    /// Most threads.
    pub threads_peak: u64,
    /// Live processes in the tree.
    pub processes: u64,
    /// Most live processes in the tree at once.
    pub processes_peak: u64,
    /// Kernel OOM kills in the service's cgroup.
    pub oom_kills_total: u64,
    /// Simulated OOM kills by the watchdog (never counted in `oom_kills_total`).
    pub simulated_oom_kills_total: u64,
    /// Samples taken.
    pub samples_total: u64,
    /// The memory limit the service runs under, if any.
    pub memory_limit_bytes: Option<u64>,
    /// The cgroup's own peak (`memory.peak` / `memory.max_usage_in_bytes`).
    pub cgroup_peak_bytes: Option<u64>,
    /// The cgroup's current usage.
    pub cgroup_usage_bytes: Option<u64>,
}

impl MetricValues {
    /// Takes in one sample and the peaks so far.
    pub fn record(&mut self, sample: &Sample, peaks: &Peaks, samples_total: u64) {
        self.rss_bytes = sample.rss_bytes;
        self.rss_peak_bytes = peaks.best_rss_peak_bytes();
        self.rss_plus_swap_bytes = sample.rss_plus_swap_bytes();
        self.rss_plus_swap_peak_bytes = peaks.rss_plus_swap_bytes;
        self.swap_bytes = sample.swap_bytes;
        self.hwm_bytes = peaks.hwm_bytes;
        self.open_fds = sample.open_fds;
        self.open_fds_peak = peaks.open_fds;
        self.sockets = sample.sockets;
        self.sockets_peak = peaks.sockets;
        self.threads = sample.threads;
        self.threads_peak = peaks.threads;
        self.processes = u64::from(sample.processes);
        self.processes_peak = u64::from(peaks.processes);
        self.samples_total = samples_total;
    }

    /// End-of-run values from a report (current values are the last kept sample's).
    pub fn from_report(report: &MemoryReport) -> Self {
        let last = report.series.last().copied().unwrap_or_default();
        let mut values = Self::default();
        values.record(&last, &report.peaks, report.samples);
        values.simulated_oom_kills_total = u64::from(report.watchdog_killed);
        values
    }

    /// Takes in the cgroup's figures.
    pub fn record_cgroup(&mut self, stats: &CgroupStats) {
        self.oom_kills_total = stats.oom_kills;
        self.cgroup_peak_bytes = stats.peak_bytes;
        self.cgroup_usage_bytes = Some(stats.usage_bytes);
        self.memory_limit_bytes = stats.limit_bytes.or(self.memory_limit_bytes);
    }
}

fn gauge(registry: &mut Registry, name: &str, help: &str, unit: Option<Unit>, value: u64) {
    let g: Gauge<u64, AtomicU64> = Gauge::default();
    g.set(value);
    match unit {
        Some(unit) => registry.register_with_unit(name, help, unit, g),
        None => registry.register(name, help, g),
    }
}

/// Builds the registry that both text encoders render.
pub(crate) fn registry(labels: &MetricLabels, v: &MetricValues) -> Registry {
    let const_labels = [
        (
            Cow::Borrowed("scenario"),
            Cow::Owned(labels.scenario.clone()),
        ),
        (Cow::Borrowed("service"), Cow::Owned(labels.service.clone())),
    ];
    let mut r = Registry::with_prefix_and_labels("oomguard", const_labels.into_iter());
    let bytes = || Some(Unit::Bytes);
    gauge(
        &mut r,
        "service_rss",
        "Resident set size of the service's process tree",
        bytes(),
        v.rss_bytes,
    );
    gauge(
        &mut r,
        "service_rss_peak",
        "Peak resident set size of the service's process tree (sampled or kernel VmHWM, whichever is higher)",
        bytes(),
        v.rss_peak_bytes,
    );
    if let Some(budget) = v.rss_budget_bytes {
        gauge(
            &mut r,
            "service_rss_budget",
            "RSS budget the memory gate checks",
            bytes(),
            budget,
        );
    }
    gauge(
        &mut r,
        "service_rss_plus_swap",
        "RSS plus swap of the service's process tree",
        bytes(),
        v.rss_plus_swap_bytes,
    );
    gauge(
        &mut r,
        "service_rss_plus_swap_peak",
        "Peak RSS plus swap of the service's process tree",
        bytes(),
        v.rss_plus_swap_peak_bytes,
    );
    gauge(
        &mut r,
        "service_swap",
        "Swap used by the service's process tree",
        bytes(),
        v.swap_bytes,
    );
    gauge(
        &mut r,
        "service_hwm",
        "Highest kernel VmHWM of a single process of the service",
        bytes(),
        v.hwm_bytes,
    );
    gauge(
        &mut r,
        "service_open_fds",
        "Open file descriptors of the service's process tree",
        None,
        v.open_fds,
    );
    gauge(
        &mut r,
        "service_open_fds_peak",
        "Most open file descriptors of the service's process tree",
        None,
        v.open_fds_peak,
    );
    gauge(
        &mut r,
        "service_sockets",
        "Open sockets of the service's process tree",
        None,
        v.sockets,
    );
    gauge(
        &mut r,
        "service_sockets_peak",
        "Most open sockets of the service's process tree",
        None,
        v.sockets_peak,
    );
    gauge(
        &mut r,
        "service_threads",
        "Threads of the service's process tree",
        None,
        v.threads,
    );
    gauge(
        &mut r,
        "service_threads_peak",
        "Most threads of the service's process tree",
        None,
        v.threads_peak,
    );
    gauge(
        &mut r,
        "service_processes",
        "Live processes in the service's process tree",
        None,
        v.processes,
    );
    gauge(
        &mut r,
        "service_processes_peak",
        "Most live processes in the service's process tree at once",
        None,
        v.processes_peak,
    );
    r.register(
        "service_oom_kills",
        "Kernel OOM kills in the service's memory cgroup",
        ConstCounter::new(v.oom_kills_total),
    );
    r.register(
        "service_simulated_oom_kills",
        "Simulated OOM kills by the memwatch watchdog (not the kernel)",
        ConstCounter::new(v.simulated_oom_kills_total),
    );
    r.register(
        "service_samples",
        "Memory samples taken of the service",
        ConstCounter::new(v.samples_total),
    );
    if let Some(limit) = v.memory_limit_bytes {
        gauge(
            &mut r,
            "service_memory_limit",
            "Memory limit the service runs under",
            bytes(),
            limit,
        );
    }
    if let Some(peak) = v.cgroup_peak_bytes {
        gauge(
            &mut r,
            "service_cgroup_peak",
            "Peak memory usage of the service's cgroup, as the kernel counts it",
            bytes(),
            peak,
        );
    }
    if let Some(usage) = v.cgroup_usage_bytes {
        gauge(
            &mut r,
            "service_cgroup_usage",
            "Memory usage of the service's cgroup",
            bytes(),
            usage,
        );
    }
    r
}

/// Values shared between the sampler (writer) and the live endpoint (reader).
#[derive(Debug)]
pub struct LiveMetrics {
    labels: MetricLabels,
    values: Mutex<MetricValues>,
}

impl LiveMetrics {
    /// Starts with the given values (e.g. the budget and limit already filled in).
    pub fn new(labels: MetricLabels, values: MetricValues) -> Self {
        Self {
            labels,
            values: Mutex::new(values),
        }
    }

    /// The labels.
    pub fn labels(&self) -> &MetricLabels {
        &self.labels
    }

    /// Changes the values in place.
    pub fn update(&self, change: impl FnOnce(&mut MetricValues)) {
        change(&mut self.values.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// A copy of the current values.
    pub fn snapshot(&self) -> MetricValues {
        self.values
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
