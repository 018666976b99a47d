//! One scenario run, start to finish: fixture → stub → service → memory watch → load →
//! verdict → reports → teardown.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use memwatch::{
    Confinement, LimitMode, LiveEndpoint, LiveMetrics, MetricLabels, MetricValues, Sampler,
    SamplerConfig,
};
use movie_fixtures::Catalog;
use omdb_stub::OmdbStub;

use crate::gates::{self, Facts};
use crate::interrupt::Interrupt;
use crate::load::{LoadCounters, LoadPlan, LoadResult, run_load};
use crate::outcome::{MemoryFacts, RunOutcome, ServiceExit, UpstreamFacts, WarmupResult};
use crate::progress::{self, ProgressSources};
use crate::report::{self, NotEvaluated};
use crate::scenario::{LimitModeSpec, Placeholders, Scenario, expand};
use crate::service::{RunningService, ServiceCommand, ServiceError, describe_status};

/// API key the stub expects when the scenario sets none.
const DEFAULT_API_KEY: &str = "oomguard-test-key";

/// Where and how to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Output directory (created).
    pub out_dir: PathBuf,
    /// Workspace root: `{workspace}` and the default working directory.
    pub workspace: PathBuf,
    /// The reference service binary, for `{enrichment_service}`.
    pub enrichment_service: Option<PathBuf>,
    /// Show the progress line on a terminal.
    pub progress: bool,
}

/// Why a run could not produce a verdict.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The scenario could not be run (exit status 3).
    #[error("{0}")]
    CouldNotRun(String),
    /// Ctrl-C or SIGTERM (everything was torn down).
    #[error("interrupted")]
    Interrupted,
    /// Another run holds the output directory (exit status 3; its files are left alone).
    #[error(
        "another loadtest run is writing into {0}\n  help: wait for it, or pass a different --out"
    )]
    OutDirBusy(String),
}

impl From<ServiceError> for RunError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Interrupted => RunError::Interrupted,
            other => RunError::CouldNotRun(other.to_string()),
        }
    }
}

fn could_not(what: &str) -> impl Fn(String) -> RunError + '_ {
    move |e| RunError::CouldNotRun(format!("{what}: {e}"))
}

/// Leaves a report in `out` (whose lock the caller holds) saying that `scenario`
/// evaluated no gate because of `error` (interrupted, or could not run).
fn report_not_evaluated(out: &Path, scenario: &str, error: &RunError) {
    let reason = error.to_string();
    let why = match error {
        RunError::OutDirBusy(_) => return,
        RunError::Interrupted => NotEvaluated::Interrupted,
        RunError::CouldNotRun(_) => NotEvaluated::CouldNotRun(&reason),
    };
    if out.is_dir()
        && let Err(e) = report::write_not_evaluated(out, scenario, why)
    {
        tracing::warn!("{e}");
    }
}

/// Marks `out`, left by an earlier run, as not run this time because of `error`: its old
/// files go and a not-evaluated report takes their place, so no older verdict stays
/// beside this run's. Left alone if it is not a directory or another run holds it.
pub fn mark_not_run(out: &Path, scenario: &str, error: &RunError) {
    // Refused because another run holds an earlier half: this reproduction ran nothing,
    // and the other run's files are not ours to replace.
    if !out.is_dir() || matches!(error, RunError::OutDirBusy(_)) {
        return;
    }
    let Ok(_lock) = lock_out_dir(out) else {
        return;
    };
    if let Err(e) = report::clear_previous_run(out) {
        tracing::warn!("{e}");
    }
    report_not_evaluated(out, scenario, error);
}

/// Runs `scenario` and writes every report into `opts.out_dir`: the verdict's, or, if no
/// gate could be evaluated (interrupted, could not run), a report saying so, written while
/// this run still holds the directory.
pub async fn run_scenario(
    scenario: &Scenario,
    opts: &RunOptions,
    interrupt: Interrupt,
) -> Result<RunOutcome, RunError> {
    let out = &opts.out_dir;
    std::fs::create_dir_all(out).map_err(|e| {
        could_not("cannot create the output directory")(format!("{}: {e}", out.display()))
    })?;
    let _lock = lock_out_dir(out)?;
    let result = run_locked(scenario, opts, interrupt).await;
    if let Err(e) = &result {
        report_not_evaluated(out, &scenario.name, e);
    }
    result
}

/// [`run_scenario`] once the output directory is this run's.
async fn run_locked(
    scenario: &Scenario,
    opts: &RunOptions,
    interrupt: Interrupt,
) -> Result<RunOutcome, RunError> {
    let started = Instant::now();
    let out = &opts.out_dir;
    report::clear_previous_run(out)
        .map_err(|e| could_not("cannot clear the previous run's files")(e.to_string()))?;
    // A second Ctrl-C exits at once: it leaves this run's "interrupted" report too.
    let _report_on_abrupt_exit = crate::interrupt::report_on_abrupt_exit(out, &scenario.name);

    // 1. Fixture.
    let catalog = Arc::new(
        Catalog::embedded()
            .map_err(|e| could_not("cannot load the movie dataset")(e.to_string()))?,
    );
    let db_path = out.join("fixture.sqlite");
    // Left by a run killed while it was seeding (they can be gigabytes).
    movie_fixtures::remove_unfinished_fixtures(out);
    tracing::info!(
        "seeding the fixture: {} rows → {}",
        scenario.fixture.rows,
        db_path.display()
    );
    {
        let (catalog, db_path, rows) = (catalog.clone(), db_path.clone(), scenario.fixture.rows);
        let seeding = tokio::task::spawn_blocking(move || {
            movie_fixtures::write_sqlite(&db_path, &catalog, rows)
        });
        let mut interrupted = interrupt.clone();
        // A big fixture takes minutes: Ctrl-C stops the run without waiting for it (the
        // process exits soon after, which ends the seeding thread).
        tokio::select! {
            seeded = seeding => {
                seeded
                    .map_err(|e| could_not("fixture task")(e.to_string()))?
                    .map_err(|e| could_not("cannot write the fixture")(e.to_string()))?;
            }
            () = interrupted.wait() => {
                movie_fixtures::remove_unfinished_fixtures(out);
                return Err(RunError::Interrupted);
            }
        }
    }

    // 2. Upstream stub with its connection ledger.
    let mut stub_config = scenario.stub.clone();
    let api_key = stub_config
        .api_key
        .get_or_insert_with(|| DEFAULT_API_KEY.to_string())
        .clone();
    let stub = OmdbStub::start(
        stub_config,
        catalog.clone(),
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
    )
    .await
    .map_err(|e| could_not("cannot start the OMDB stub")(e.to_string()))?;
    tracing::info!("OMDB stub on {}", stub.url());

    // 3. The service (not started once Ctrl-C has arrived).
    if interrupt.is_set() {
        stub.shutdown().await;
        return Err(RunError::Interrupted);
    }
    let host = crate::host::describe_host();
    if host.swap_total_bytes > 0
        && scenario.gates.budget_measure == crate::scenario::BudgetMeasure::Rss
    {
        tracing::warn!(
            "this host has {} of swap: a service can page out instead of being OOM-killed and look smaller \
             than it is; turn swap off (swapoff -a) or set gates.budget_measure = \"rss-plus-swap\"",
            memwatch::ByteSize(host.swap_total_bytes)
        );
    }
    let port = free_port().map_err(|e| could_not("no free port on 127.0.0.1")(e.to_string()))?;
    let command = service_command(scenario, opts, port, &stub.url(), &db_path, &api_key)?;
    let service_name = service_name(scenario, &command.program);
    tracing::info!(
        "starting {} on port {port}: {} {}",
        service_name,
        command.program,
        command.args.join(" ")
    );
    let result = run_with_service(
        scenario,
        opts,
        &interrupt,
        &stub,
        command,
        port,
        &service_name,
        started,
    )
    .await;
    let ledger = stub.shutdown().await;
    let (mut outcome, service_exit_for_log) = result?;
    outcome.host = host;

    let faults = &scenario.stub.faults;
    let caveats = scenario.client_strategy_caveats();
    let facts = Facts {
        expected_upstream_error_rate: faults.http_500 + faults.rate_limit,
        client_strategy_caveats: &caveats,
        memory: &outcome.memory,
        upstream: &outcome.upstream,
        exit: &outcome.service_exit,
        load: &outcome.load,
    };
    outcome.gates = gates::evaluate(&scenario.gates, &facts);
    outcome.passed = gates::all_passed(&outcome.gates);
    outcome.duration_s = started.elapsed().as_secs_f64();
    let ledger_path = out.join("ledger.json");
    if let Ok(bytes) = serde_json::to_vec_pretty(&ledger) {
        let _ = memwatch::write_atomically(&ledger_path, &bytes);
        outcome
            .files
            .insert("ledger".into(), ledger_path.display().to_string());
    }
    if let Some(log) = service_exit_for_log {
        outcome.files.insert("service_log".into(), log);
    }
    report::write_reports(out, &mut outcome)
        .map_err(|e| could_not("cannot write the reports")(e.to_string()))?;
    Ok(outcome)
}

/// The part of a run during which the service is alive; the service is always torn down.
#[allow(clippy::too_many_arguments)]
async fn run_with_service(
    scenario: &Scenario,
    opts: &RunOptions,
    interrupt: &Interrupt,
    stub: &OmdbStub,
    command: ServiceCommand,
    port: u16,
    service_name: &str,
    started: Instant,
) -> Result<(RunOutcome, Option<String>), RunError> {
    let out = &opts.out_dir;
    let service = RunningService::spawn(&command)?;
    let confinement = describe_confinement(service.confinement(), command.memory_limit.is_some());
    if let Confinement::Watchdog { reason } = service.confinement() {
        tracing::warn!("memory limit enforced by a watchdog: {reason}");
    }
    let limit = command.memory_limit.map(|(l, _)| l);
    let budget = scenario.gates.rss_budget.map(|b| b.0);
    let labels = MetricLabels {
        scenario: scenario.name.clone(),
        service: service_name.to_string(),
    };
    let live_values = Arc::new(LiveMetrics::new(
        labels.clone(),
        MetricValues {
            rss_budget_bytes: budget,
            memory_limit_bytes: limit,
            ..MetricValues::default()
        },
    ));
    let csv_path = out.join("rss.csv");
    let sampler = Sampler::start(
        service.pid(),
        SamplerConfig {
            interval: Duration::from_millis(scenario.sampling.interval_ms),
            csv_path: Some(csv_path.clone()),
            watchdog_limit_bytes: if service.confinement().is_simulated() {
                limit
            } else {
                None
            },
            live: Some(live_values.clone()),
            ..SamplerConfig::default()
        },
    )
    .map_err(|e| could_not("cannot watch the service's memory")(e.to_string()))?;
    let live = if scenario.export.live_metrics {
        let endpoint = LiveEndpoint::start(scenario.export.live_metrics_addr, live_values.clone())
            .map_err(|e| could_not("cannot start the live metrics endpoint")(e.to_string()))?;
        tracing::info!("live metrics: {}", endpoint.url());
        Some(endpoint)
    } else {
        None
    };

    // Readiness.
    let base_url = format!("http://127.0.0.1:{port}");
    let ready_url = format!("{base_url}{}", scenario.service.ready_path);
    let ready_in = service
        .wait_ready(
            &ready_url,
            Duration::from_millis(scenario.service.ready_timeout_ms),
            interrupt,
        )
        .await;
    let ready_in = match ready_in {
        Ok(d) => d,
        Err(e) => {
            service
                .shutdown(Duration::from_millis(scenario.service.shutdown_grace_ms))
                .await;
            return Err(e.into());
        }
    };
    tracing::info!("service ready in {:.1} s", ready_in.as_secs_f64());

    // Warm-up, then the load.
    let warmup = match &scenario.load.warmup {
        Some(w) => Some(run_warmup(&base_url, w, &scenario.load, &service, interrupt).await),
        None => None,
    };
    let counters = Arc::new(LoadCounters::default());
    let load = &scenario.load;
    let plan = LoadPlan {
        base_url: base_url.clone(),
        path: load.path.clone(),
        users: load.users,
        increase_rate: load.increase_rate,
        iterations: match (load.iterations, load.run_time_s) {
            (None, None) => Some(1),
            (i, _) => i,
        },
        run_time: load.run_time_s.map(Duration::from_secs),
        think_time: Duration::from_millis(load.think_time_ms),
        request_timeout: Duration::from_millis(load.request_timeout_ms),
        max_duration: Duration::from_secs(load.max_duration_s),
        html_report: scenario
            .export
            .goose_html
            .then(|| out.join("goose-report.html")),
    };
    let planned = plan.iterations.map(|i| (i * plan.users) as u64);
    let load_started = started.elapsed();
    let load_result = if interrupt.is_set() {
        LoadResult {
            stopped_early: Some("interrupted by the user".into()),
            ..LoadResult::default()
        }
    } else {
        tracing::info!(
            "load: {} users, GET {}, {}",
            plan.users,
            plan.path,
            match (plan.iterations, plan.run_time) {
                (Some(i), _) => format!("{i} request(s) each"),
                (None, Some(t)) => format!("for {} s", t.as_secs()),
                _ => String::new(),
            }
        );
        let exited = service.exit_handle();
        let load = run_load(&plan, counters.clone(), interrupt.clone(), move || {
            exited
                .get()
                .map(|e| format!("the service died: {}", describe_status(e)))
        });
        let sources = ProgressSources {
            counters: &counters,
            sampler: &sampler,
            stub,
            planned,
        };
        let result = tokio::select! {
            result = load => result,
            () = abandon_after_interrupt(interrupt.clone()) => Ok(LoadResult {
                stopped_early: Some("interrupted by the user".into()),
                ..LoadResult::default()
            }),
            _ = progress::show(sources), if progress::enabled(opts.progress) => unreachable!("the progress line never ends"),
        };
        // goose creates its report file first and fills it at the end: an attack abandoned
        // after Ctrl-C leaves it empty.
        if let Some(html) = &plan.html_report
            && std::fs::metadata(html).is_ok_and(|m| m.len() == 0)
        {
            let _ = std::fs::remove_file(html);
        }
        result.map_err(|e| could_not("load")(e.to_string()))?
    };
    let load_ended = started.elapsed();
    // Let in-flight upstream calls settle so the ledger sees how connections end.
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Classify while the service is still up: its teardown closes every connection at
    // once, which would look like a client dropped at the end of a burst.
    let upstream = upstream_facts(&stub.ledger());
    let last_output_before = service.last_output();
    let log_file = service.log_path().display().to_string();
    let teardown = service
        .shutdown(Duration::from_millis(scenario.service.shutdown_grace_ms))
        .await;
    let report = sampler
        .stop()
        .map_err(|e| could_not("memory sampler")(e.to_string()))?;
    if let Some(live) = live {
        live.shutdown();
    }
    if interrupt.is_set() {
        return Err(RunError::Interrupted);
    }

    let peaks = &report.peaks;
    let memory = MemoryFacts {
        peak_rss_bytes: peaks.rss_bytes,
        peak_rss_plus_swap_bytes: peaks.rss_plus_swap_bytes,
        kernel_hwm_bytes: peaks.hwm_bytes,
        cgroup_peak_bytes: teardown.cgroup.as_ref().and_then(|c| c.peak_bytes),
        budget_bytes: budget,
        limit_bytes: limit,
        confinement,
        oom_killed: teardown.oom_killed,
        oom_kill_simulated: report.watchdog_killed,
        samples: report.samples,
        peak_open_fds: peaks.open_fds,
        peak_sockets: peaks.sockets,
        peak_threads: peaks.threads,
        rss_growth_mib_per_min: growth_rate(&report.series, load_started, load_ended),
    };
    let last_output = last_output_before;
    let service_exit = ServiceExit {
        died_during_run: teardown.died_during_run,
        status: Some(teardown.status.clone()),
        last_output,
        log_file: Some(log_file.clone()),
    };
    let mut metric_values = MetricValues::from_report(&report);
    metric_values.rss_budget_bytes = budget;
    metric_values.memory_limit_bytes = limit;
    if let Some(stats) = &teardown.cgroup {
        metric_values.record_cgroup(stats);
    }
    let mut files = BTreeMap::new();
    files.insert("csv".into(), csv_path.display().to_string());
    if let Some(html) = plan.html_report.as_ref().filter(|html| html.is_file()) {
        files.insert("goose_html".into(), html.display().to_string());
    }
    let outcome = RunOutcome {
        scenario: scenario.name.clone(),
        service: service_name.to_string(),
        description: scenario.description.clone(),
        passed: false,
        duration_s: 0.0,
        host: crate::host::Host::default(),
        memory,
        upstream,
        service_exit,
        warmup,
        load: load_result,
        gates: Vec::new(),
        files,
        labels,
        metric_values,
    };
    Ok((outcome, Some(log_file)))
}

/// Sequential warm-up requests; failures are counted, never fatal.
async fn run_warmup(
    base_url: &str,
    warmup: &crate::scenario::WarmupSpec,
    load: &crate::scenario::LoadSpec,
    service: &RunningService,
    interrupt: &Interrupt,
) -> WarmupResult {
    let mut result = WarmupResult::default();
    let Ok(client) = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(load.request_timeout_ms))
        .build()
    else {
        return result;
    };
    tracing::info!("warm-up: {} × GET {}", warmup.iterations, warmup.path);
    for i in 0..warmup.iterations {
        if interrupt.is_set() || service.exited().is_some() {
            break;
        }
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(warmup.pause_ms)).await;
        }
        result.requests += 1;
        let ok = match client
            .get(format!("{base_url}{}", warmup.path))
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
            _ => false,
        };
        if !ok {
            result.failures += 1;
        }
    }
    if result.requests > 0 {
        // A pause so that the warm-up bursts and the load are told apart upstream.
        tokio::time::sleep(Duration::from_millis(warmup.pause_ms)).await;
    }
    result
}

/// How the memory limit is enforced, in words for reports.
fn describe_confinement(c: &Confinement, limited: bool) -> String {
    let version = |v: &memwatch::CgroupVersion| match v {
        memwatch::CgroupVersion::V1 => "v1",
        memwatch::CgroupVersion::V2 => "v2",
    };
    match c {
        Confinement::Cgroup { version: v, .. } if !limited => {
            format!("cgroup {} (no limit; finds every process)", version(v))
        }
        Confinement::Cgroup { version: v, .. } => format!("cgroup {} (real OOM kill)", version(v)),
        Confinement::SystemdScope { .. } => "systemd scope (real OOM kill)".into(),
        Confinement::Watchdog { .. } => "watchdog (SIMULATED kill)".into(),
        Confinement::None => "none".into(),
    }
}

fn upstream_facts(ledger: &omdb_stub::LedgerSnapshot) -> UpstreamFacts {
    let classification = omdb_stub::classify(ledger);
    let mut status_counts = BTreeMap::new();
    let mut unanswered_calls = 0;
    for request in ledger.connections.iter().flat_map(|c| &c.requests) {
        match request.status {
            Some(status) => *status_counts.entry(status).or_insert(0u64) += 1,
            None => unanswered_calls += 1,
        }
    }
    UpstreamFacts {
        calls: classification.evidence.calls,
        connections: classification.evidence.connections,
        connections_opened: ledger.connections.len() as u64,
        status_counts,
        unanswered_calls,
        max_open_connections: classification.evidence.max_open_connections,
        classification,
    }
}

/// Least-squares slope of RSS over the second half of the load, in MiB per minute.
fn growth_rate(
    series: &[memwatch::Sample],
    load_started: Duration,
    load_ended: Duration,
) -> Option<f64> {
    let half = load_started + (load_ended.saturating_sub(load_started)) / 2;
    let points: Vec<(f64, f64)> = series
        .iter()
        .filter(|s| s.elapsed >= half && s.elapsed <= load_ended)
        .map(|s| {
            (
                s.elapsed.as_secs_f64() / 60.0,
                s.rss_bytes as f64 / 1_048_576.0,
            )
        })
        .collect();
    if points.len() < 10 {
        return None;
    }
    let n = points.len() as f64;
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    let (mx, my) = (sx / n, sy / n);
    let (num, den) = points.iter().fold((0.0, 0.0), |(num, den), (x, y)| {
        (num + (x - mx) * (y - my), den + (x - mx) * (x - mx))
    });
    (den > 0.0).then(|| num / den)
}

/// How long the load gets to stop on its own after Ctrl-C.
const LOAD_STOP_GRACE: Duration = Duration::from_secs(1);

/// Resolves [`LOAD_STOP_GRACE`] after Ctrl-C. goose waits for every request in flight,
/// and one `/movies` request to a service with a client per movie can take a minute:
/// past the grace the load is abandoned (its verdict is "interrupted" anyway) and the
/// teardown stops the service, which ends those requests.
async fn abandon_after_interrupt(mut interrupt: Interrupt) {
    interrupt.wait().await;
    tokio::time::sleep(LOAD_STOP_GRACE).await;
}

/// Holds an exclusive lock on `out/.lock` for the whole run, so that two runs never write
/// into one directory at once.
fn lock_out_dir(out: &Path) -> Result<std::fs::File, RunError> {
    use std::os::fd::AsRawFd;
    let path = out.join(".lock");
    let file = std::fs::File::create(&path).map_err(|e| {
        could_not("cannot create the lock file")(format!("{}: {e}", path.display()))
    })?;
    // SAFETY: flock on a descriptor we own; the lock is released when the file is closed.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        return Err(RunError::OutDirBusy(out.display().to_string()));
    }
    Ok(file)
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

fn service_name(scenario: &Scenario, program: &str) -> String {
    scenario.service.name.clone().unwrap_or_else(|| {
        Path::new(program)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| program.to_string())
    })
}

/// Expands the placeholders of the service's command, args, env and working directory.
fn service_command(
    scenario: &Scenario,
    opts: &RunOptions,
    port: u16,
    omdb_url: &str,
    db_path: &Path,
    api_key: &str,
) -> Result<ServiceCommand, RunError> {
    let mut p = Placeholders::default();
    for (name, value) in &scenario.vars {
        p.set(name, value.clone());
    }
    p.set("port", port.to_string());
    p.set("omdb_url", omdb_url);
    p.set("db_path", db_path.display().to_string());
    p.set("api_key", api_key);
    p.set("workspace", opts.workspace.display().to_string());
    p.set("out_dir", opts.out_dir.display().to_string());
    p.set("scenario", scenario.name.clone());
    if let Some(bin) = &opts.enrichment_service {
        p.set("enrichment_service", bin.display().to_string());
    }
    let svc = &scenario.service;
    let x = |key: &str, text: &str| {
        expand(text, &p).map_err(|name| {
            RunError::CouldNotRun(format!(
                "`{key}` uses {{{name}}}, which has no value here\n  help: {}",
                if name == "enrichment_service" {
                    "the reference service binary was not located; pass --service-bin PATH"
                        .to_string()
                } else {
                    format!("known placeholders: {}", p.names())
                }
            ))
        })
    };
    let program = x("service.command", &svc.command)?;
    let args = svc
        .args
        .iter()
        .enumerate()
        .map(|(i, a)| x(&format!("service.args[{i}]"), a))
        .collect::<Result<Vec<_>, _>>()?;
    let mut env = BTreeMap::new();
    for (k, v) in &svc.env {
        env.insert(k.clone(), x(&format!("service.env.{k}"), v)?);
    }
    let cwd = match &svc.cwd {
        Some(c) => PathBuf::from(x("service.cwd", c)?),
        None => opts.workspace.clone(),
    };
    let mode = match svc.limit_mode {
        LimitModeSpec::Auto => LimitMode::Auto,
        LimitModeSpec::Cgroup => LimitMode::Cgroup,
        LimitModeSpec::Systemd => LimitMode::Systemd,
        LimitModeSpec::Watchdog => LimitMode::Watchdog,
    };
    Ok(ServiceCommand {
        program,
        args,
        env,
        cwd,
        memory_limit: svc.memory_limit.map(|l| (l.0, mode)),
        log_path: opts.out_dir.join("service.log"),
    })
}

/// Whether the scenario needs the reference service binary.
pub fn uses_enrichment_service(scenario: &Scenario) -> bool {
    let needle = "{enrichment_service}";
    let s = &scenario.service;
    s.command.contains(needle)
        || s.args.iter().any(|a| a.contains(needle))
        || s.env.values().any(|v| v.contains(needle))
}
