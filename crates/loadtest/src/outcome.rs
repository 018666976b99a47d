//! Everything one run found out: the input of the gates and of every report.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::gates::GateResult;
use crate::load::LoadResult;

/// The result of one scenario run.
#[derive(Debug, Clone, Serialize)]
pub struct RunOutcome {
    /// Scenario name (the `scenario` label).
    pub scenario: String,
    /// Service name (the `service` label).
    pub service: String,
    /// The scenario's description.
    pub description: String,
    /// Whether every gate in `fail` mode passed.
    pub passed: bool,
    /// Wall time of the whole run.
    pub duration_s: f64,
    /// The machine it ran on.
    pub host: crate::host::Host,
    /// Memory of the service's process tree.
    pub memory: MemoryFacts,
    /// What the OMDB stub saw.
    pub upstream: UpstreamFacts,
    /// How the service process ended.
    pub service_exit: ServiceExit,
    /// The warm-up requests, if any.
    pub warmup: Option<WarmupResult>,
    /// The load.
    pub load: LoadResult,
    /// One result per gate.
    pub gates: Vec<GateResult>,
    /// Files written, by kind.
    pub files: BTreeMap<String, String>,
    /// The `scenario` and `service` metric labels.
    #[serde(skip)]
    pub labels: memwatch::MetricLabels,
    /// End-of-run metric values for the Prometheus and OpenMetrics files.
    #[serde(skip)]
    pub metric_values: memwatch::MetricValues,
}

/// Memory figures, in bytes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MemoryFacts {
    /// Highest sampled RSS of the process tree.
    pub peak_rss_bytes: u64,
    /// Highest sampled RSS + swap of the process tree.
    pub peak_rss_plus_swap_bytes: u64,
    /// Highest kernel high-water mark (`VmHWM`) of any single process of the tree.
    pub kernel_hwm_bytes: u64,
    /// The memory cgroup's own peak (includes page cache), where a cgroup was used.
    pub cgroup_peak_bytes: Option<u64>,
    /// The budget the gate applies, if any.
    pub budget_bytes: Option<u64>,
    /// The enforced memory limit, if any.
    pub limit_bytes: Option<u64>,
    /// How the limit was enforced (cgroup v1/v2, systemd scope, simulated watchdog, none).
    pub confinement: String,
    /// The kernel OOM-killed a process of the service (cgroup counter).
    pub oom_killed: bool,
    /// The harness's watchdog killed the service at the limit (a simulated OOM kill).
    pub oom_kill_simulated: bool,
    /// Memory samples taken.
    pub samples: u64,
    /// Peak open file descriptors of the tree.
    pub peak_open_fds: u64,
    /// Peak sockets of the tree.
    pub peak_sockets: u64,
    /// Peak threads of the tree.
    pub peak_threads: u64,
    /// Steady RSS growth over the load's second half, in MiB per minute.
    pub rss_growth_mib_per_min: Option<f64>,
}

/// What the stub and its connection ledger saw.
#[derive(Debug, Clone, Serialize)]
pub struct UpstreamFacts {
    /// Upstream calls answered.
    pub calls: u64,
    /// TCP connections that carried at least one call.
    pub connections: u64,
    /// TCP connections the service opened in all (some may never carry a call).
    pub connections_opened: u64,
    /// Answered calls by HTTP status.
    pub status_counts: BTreeMap<u16, u64>,
    /// Calls never answered (reset fault, client gave up, service died).
    pub unanswered_calls: u64,
    /// Most connections open at once.
    pub max_open_connections: usize,
    /// The ledger's verdict on the service's HTTP client strategy, with its evidence.
    pub classification: omdb_stub::Classification,
}

/// How the service process ended.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ServiceExit {
    /// It ended on its own before the harness stopped it (crash, OOM kill, exit).
    pub died_during_run: bool,
    /// Its exit status in words, e.g. `killed by signal 9 (SIGKILL)`.
    pub status: Option<String>,
    /// The last lines it wrote (stdout and stderr).
    pub last_output: Vec<String>,
    /// Where its whole output was saved.
    pub log_file: Option<String>,
}

/// The sequential warm-up requests.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WarmupResult {
    /// Requests sent.
    pub requests: u64,
    /// Of which failed.
    pub failures: u64,
}
