//! The typed scenario: what one `scenarios/*.toml` file says.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use memwatch::ByteSize;
use omdb_stub::StubConfig;
use serde::{Deserialize, Serialize};

/// One scenario file: the service, the fixture, the stub, the load, the gates and the exports.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name, used in reports and as the `scenario` metric label.
    pub name: String,
    /// One or two sentences on what the scenario proves.
    #[serde(default)]
    pub description: String,
    /// Free variables usable as `{name}` placeholders in the service command, args and env.
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    /// The service under test.
    pub service: ServiceSpec,
    /// The SQLite fixture the service reads.
    #[serde(default)]
    pub fixture: FixtureSpec,
    /// The OMDB stub the service is pointed at.
    #[serde(default)]
    pub stub: StubConfig,
    /// The load goose drives.
    #[serde(default)]
    pub load: LoadSpec,
    /// The pass/fail gates.
    #[serde(default)]
    pub gates: GateSpec,
    /// Memory sampling.
    #[serde(default)]
    pub sampling: SamplingSpec,
    /// Exports beside the report files.
    #[serde(default)]
    pub export: ExportSpec,
}

/// The pause between two requests of a user (load or warm-up) that keeps their upstream
/// calls apart for the ledger: it splits bursts at 300 ms without upstream activity
/// (`omdb_stub::ClassifyOptions::idle_gap_ms`), and the rest is a margin for the
/// service's own work between the two requests.
pub const MIN_PAUSE_BETWEEN_BURSTS_MS: u64 = 1000;

impl Scenario {
    /// What in this scenario can make the stub's client-strategy verdict
    /// wrong, one sentence per cause naming its key (empty when none).
    pub fn client_strategy_caveats(&self) -> Vec<String> {
        let faults = &self.stub.faults;
        let mut caveats = Vec::new();
        if faults.timeout > 0.0 {
            caveats.push(format!(
                "stub.faults.timeout = {}: a client that gives up on a call closes its connection early",
                faults.timeout
            ));
        }
        if faults.reset > 0.0 {
            caveats.push(format!(
                "stub.faults.reset = {}: every reset connection has to be replaced",
                faults.reset
            ));
        }
        let merge = format!(
            "requests less than {} ms apart merge into one burst of upstream calls, where one \
             per-request client's closes mid-burst look like a client per call",
            omdb_stub::ClassifyOptions::default().idle_gap_ms
        );
        let several_requests = self.load.run_time_s.is_some() || self.load.iterations > Some(1);
        if several_requests && self.load.think_time_ms < MIN_PAUSE_BETWEEN_BURSTS_MS {
            caveats.push(format!(
                "load.think_time_ms = {}: {merge} (set it to {MIN_PAUSE_BETWEEN_BURSTS_MS} or more)",
                self.load.think_time_ms
            ));
        }
        if let Some(warmup) = &self.load.warmup
            && warmup.iterations > 1
            && warmup.pause_ms < MIN_PAUSE_BETWEEN_BURSTS_MS
        {
            caveats.push(format!(
                "load.warmup.pause_ms = {}: {merge} (set it to {MIN_PAUSE_BETWEEN_BURSTS_MS} or more)",
                warmup.pause_ms
            ));
        }
        if self.load.users > 1 {
            caveats.push(format!(
                "load.users = {}: overlapping requests hide one per-request client's idle \
                 connections from the next",
                self.load.users
            ));
        }
        caveats
    }
}

/// How the service under test is started and judged ready.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// The `service` metric label; defaults to the file name of `command`.
    #[serde(default)]
    pub name: Option<String>,
    /// The program to run; placeholders allowed.
    pub command: String,
    /// Its arguments; placeholders allowed.
    #[serde(default)]
    pub args: Vec<String>,
    /// Extra environment; placeholders allowed in values.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Working directory (default: the workspace root).
    #[serde(default)]
    pub cwd: Option<String>,
    /// Path polled with `GET` until it answers 2xx.
    #[serde(default = "default_ready_path")]
    pub ready_path: String,
    /// How long the service may take to become ready.
    #[serde(default = "default_ready_timeout_ms")]
    pub ready_timeout_ms: u64,
    /// A real memory limit (cgroup) around the service: a breach is a kernel OOM kill.
    #[serde(default)]
    pub memory_limit: Option<ByteSize>,
    /// How the memory limit is enforced.
    #[serde(default)]
    pub limit_mode: LimitModeSpec,
    /// Grace between SIGTERM and SIGKILL at teardown.
    #[serde(default = "default_shutdown_grace_ms")]
    pub shutdown_grace_ms: u64,
}

/// How a memory limit is enforced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LimitModeSpec {
    /// A cgroup if one can be had, else `systemd-run`, else the watchdog.
    #[default]
    Auto,
    /// A cgroup written directly (root); the run cannot start without one.
    Cgroup,
    /// A transient systemd scope (`systemd-run --scope`).
    Systemd,
    /// A simulated kill: the harness kills the tree when its RSS crosses the limit.
    Watchdog,
}

impl LimitModeSpec {
    /// The name a scenario file uses for it.
    pub fn name(self) -> &'static str {
        match self {
            LimitModeSpec::Auto => "auto",
            LimitModeSpec::Cgroup => "cgroup",
            LimitModeSpec::Systemd => "systemd",
            LimitModeSpec::Watchdog => "watchdog",
        }
    }
}

/// The fixture database.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureSpec {
    /// Number of movie rows (repeats the dataset with distinct ids past its size).
    #[serde(default = "default_rows")]
    pub rows: u64,
}

/// The load goose drives against the service.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LoadSpec {
    /// Request path and query.
    #[serde(default = "default_load_path")]
    pub path: String,
    /// Concurrent goose users.
    #[serde(default = "default_users")]
    pub users: usize,
    /// Users started per second.
    #[serde(default = "default_increase_rate")]
    pub increase_rate: f64,
    /// Exact request count per user (exclusive with `run_time_s`).
    #[serde(default)]
    pub iterations: Option<usize>,
    /// Run for this long instead of a fixed count.
    #[serde(default)]
    pub run_time_s: Option<u64>,
    /// Pause between two requests of one user.
    #[serde(default)]
    pub think_time_ms: u64,
    /// Per-request timeout.
    #[serde(default = "default_request_timeout_ms")]
    pub request_timeout_ms: u64,
    /// Hard bound on the whole load phase; the load stops when it is reached.
    #[serde(default = "default_max_duration_s")]
    pub max_duration_s: u64,
    /// Requests sent before the main load, one after another.
    #[serde(default)]
    pub warmup: Option<WarmupSpec>,
}

/// Sequential requests before the main load (evidence for the ledger before a heavy load).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WarmupSpec {
    /// Request path and query.
    pub path: String,
    /// How many requests.
    pub iterations: usize,
    /// Pause between two warm-up requests, so that each forms its own burst upstream
    /// (the ledger splits bursts at 300 ms of upstream silence).
    #[serde(default = "default_warmup_pause_ms")]
    pub pause_ms: u64,
}

/// What a gate does when it trips.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GateMode {
    /// The run fails.
    #[default]
    Fail,
    /// Reported, the run still passes.
    Warn,
    /// Not evaluated.
    Off,
}

/// Which memory figure the budget applies to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BudgetMeasure {
    /// Resident set size (what the OOM killer counts).
    #[default]
    Rss,
    /// RSS plus swap: the real footprint on a host that swaps.
    RssPlusSwap,
}

/// Pass/fail rules.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GateSpec {
    /// Peak memory budget of the service's process tree (default 512MiB); `"off"` turns
    /// the memory gate off.
    #[serde(default = "default_budget", deserialize_with = "budget_or_off")]
    pub rss_budget: Option<ByteSize>,
    /// Which figure the budget is applied to.
    #[serde(default)]
    pub budget_measure: BudgetMeasure,
    /// The one-HTTP-client-per-upstream-call gate.
    #[serde(default)]
    pub client_per_call: GateMode,
    /// Largest tolerated share of failed load requests (0.0 to 1.0).
    #[serde(default)]
    pub max_error_rate: f64,
    /// The service crashed, was OOM-killed or exited before the end.
    #[serde(default)]
    pub crash: GateMode,
    /// Far more upstream calls answered with an error status (4xx/5xx) than the stub's
    /// configured faults explain: a wrong API key or URL, so the load is not the real one.
    #[serde(default = "default_warn")]
    pub upstream_errors: GateMode,
    /// Soak: largest tolerated steady RSS growth, in MiB per minute (absent = gate off).
    #[serde(default)]
    pub max_rss_growth_mib_per_min: Option<f64>,
}

/// Memory sampling.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SamplingSpec {
    /// Sampling interval.
    #[serde(default = "default_interval_ms")]
    pub interval_ms: u64,
}

/// Exports besides the report files.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExportSpec {
    /// Serve live metrics during the run.
    #[serde(default = "default_true")]
    pub live_metrics: bool,
    /// Where the live endpoint listens (loopback by default, port 0 = any free port).
    #[serde(default = "default_live_addr")]
    pub live_metrics_addr: SocketAddr,
    /// Write goose's own HTML report.
    #[serde(default = "default_true")]
    pub goose_html: bool,
}

fn default_ready_path() -> String {
    "/healthz".into()
}
fn default_ready_timeout_ms() -> u64 {
    60_000
}
fn default_shutdown_grace_ms() -> u64 {
    5_000
}
fn default_rows() -> u64 {
    1_000
}
fn default_load_path() -> String {
    "/movies?limit=1000".into()
}
fn default_users() -> usize {
    1
}
fn default_increase_rate() -> f64 {
    1.0
}
fn default_request_timeout_ms() -> u64 {
    300_000
}
fn default_max_duration_s() -> u64 {
    900
}
fn default_warmup_pause_ms() -> u64 {
    MIN_PAUSE_BETWEEN_BURSTS_MS
}
fn default_budget() -> Option<ByteSize> {
    Some(ByteSize(512 * 1024 * 1024))
}

/// `gates.rss_budget`: a size as [`ByteSize`] reads it, or `"off"`.
fn budget_or_off<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<ByteSize>, D::Error> {
    use serde::de::IntoDeserializer;

    struct BudgetVisitor;
    impl serde::de::Visitor<'_> for BudgetVisitor {
        type Value = Option<ByteSize>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a size such as \"512MiB\", or \"off\" to turn the memory gate off")
        }
        // Numbers are sizes in bytes: `ByteSize` reads them (and refuses negative ones).
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            ByteSize::deserialize(v.into_deserializer()).map(Some)
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            ByteSize::deserialize(v.into_deserializer()).map(Some)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            if v.trim().eq_ignore_ascii_case("off") {
                Ok(None)
            } else {
                v.parse()
                    .map(Some)
                    .map_err(|e| E::custom(format!("{e}; or \"off\" to turn the memory gate off")))
            }
        }
    }
    deserializer.deserialize_any(BudgetVisitor)
}
fn default_warn() -> GateMode {
    GateMode::Warn
}
fn default_interval_ms() -> u64 {
    20
}
fn default_true() -> bool {
    true
}
fn default_live_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

impl Default for FixtureSpec {
    fn default() -> Self {
        Self {
            rows: default_rows(),
        }
    }
}

impl Default for LoadSpec {
    fn default() -> Self {
        Self {
            path: default_load_path(),
            users: default_users(),
            increase_rate: default_increase_rate(),
            iterations: None,
            run_time_s: None,
            think_time_ms: 0,
            request_timeout_ms: default_request_timeout_ms(),
            max_duration_s: default_max_duration_s(),
            warmup: None,
        }
    }
}

impl Default for GateSpec {
    fn default() -> Self {
        Self {
            rss_budget: default_budget(),
            budget_measure: BudgetMeasure::default(),
            client_per_call: GateMode::default(),
            max_error_rate: 0.0,
            crash: GateMode::default(),
            upstream_errors: default_warn(),
            max_rss_growth_mib_per_min: None,
        }
    }
}

impl Default for SamplingSpec {
    fn default() -> Self {
        Self {
            interval_ms: default_interval_ms(),
        }
    }
}

impl Default for ExportSpec {
    fn default() -> Self {
        Self {
            live_metrics: true,
            live_metrics_addr: default_live_addr(),
            goose_html: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(extra: &str) -> Scenario {
        toml::from_str(&format!(
            "name = \"t\"\n[service]\ncommand = \"true\"\n{extra}"
        ))
        .expect("test scenario parses")
    }

    #[test]
    fn limit_mode_names_are_what_scenario_files_say() {
        use LimitModeSpec::*;
        for mode in [Auto, Cgroup, Systemd, Watchdog] {
            let parsed = scenario(&format!("limit_mode = \"{}\"", mode.name()));
            assert_eq!(parsed.service.limit_mode, mode);
        }
    }

    #[test]
    fn the_memory_budget_is_a_size_or_off() {
        let budget = |extra: &str| scenario(extra).gates.rss_budget;
        assert_eq!(budget(""), Some(ByteSize(512 << 20)));
        assert_eq!(
            budget("[gates]\nrss_budget = \"256MiB\"\n"),
            Some(ByteSize(256 << 20))
        );
        assert_eq!(budget("[gates]\nrss_budget = \"off\"\n"), None);
        let error = toml::from_str::<Scenario>(
            "name = \"t\"\n[service]\ncommand = \"true\"\n[gates]\nrss_budget = \"lots\"\n",
        )
        .expect_err("not a size");
        assert!(error.to_string().contains("rss_budget"), "{error}");
    }

    #[test]
    fn client_strategy_caveats_name_their_keys() {
        assert!(scenario("").client_strategy_caveats().is_empty());
        let caveats = scenario(
            "[stub.faults]\ntimeout = 0.2\nreset = 0.01\n[load]\nusers = 4\niterations = 3\n",
        )
        .client_strategy_caveats();
        assert_eq!(caveats.len(), 4, "{caveats:?}");
        assert!(caveats[0].starts_with("stub.faults.timeout = 0.2"));
        assert!(caveats[1].starts_with("stub.faults.reset = 0.01"));
        assert!(caveats[2].starts_with("load.think_time_ms = 0"));
        assert!(caveats[3].starts_with("load.users = 4"));
        let warmup = scenario(
            "[load]\niterations = 1\nwarmup = { path = \"/movies\", iterations = 3, pause_ms = 100 }\n",
        )
        .client_strategy_caveats();
        assert_eq!(warmup.len(), 1, "{warmup:?}");
        assert!(warmup[0].starts_with("load.warmup.pause_ms = 100"));
        // One request per user, or a second between them: nothing merges.
        for load in [
            "iterations = 1",
            "iterations = 3\nthink_time_ms = 1000",
            "iterations = 1\nwarmup = { path = \"/movies\", iterations = 3 }",
        ] {
            let s = scenario(&format!("[load]\n{load}\n"));
            assert!(s.client_strategy_caveats().is_empty(), "{load}");
        }
    }
}
