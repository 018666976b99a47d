//! The load: goose users sending `GET path` to the service, bounded in count and time.

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use goose::GooseAttack;
use goose::config::GooseConfiguration;
use goose::goose::{Scenario as GooseScenario, Transaction};
use goose::metrics::GooseMetrics;
use serde::Serialize;

use crate::interrupt::Interrupt;

/// What to send.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// Path and query of every request.
    pub path: String,
    /// Concurrent users.
    pub users: usize,
    /// Users started per second.
    pub increase_rate: f64,
    /// Exact requests per user, or `None` with `run_time`.
    pub iterations: Option<usize>,
    /// Duration of the load instead of a count.
    pub run_time: Option<Duration>,
    /// Pause between two requests of one user.
    pub think_time: Duration,
    /// Per-request timeout.
    pub request_timeout: Duration,
    /// The load is stopped when it has run this long, whatever else it says.
    pub max_duration: Duration,
    /// Where goose writes its HTML report.
    pub html_report: Option<PathBuf>,
}

/// Live counters the progress line reads.
#[derive(Debug, Default)]
pub struct LoadCounters {
    /// Requests answered or failed so far.
    pub done: AtomicU64,
    /// Of which failed (non-2xx, transport error, timeout).
    pub failed: AtomicU64,
}

/// Latency of the load requests, in milliseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LatencySummary {
    /// Mean.
    pub mean_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Slowest.
    pub max_ms: f64,
}

/// What the load did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadResult {
    /// Requests sent (successes + failures).
    pub requests: u64,
    /// Requests that failed.
    pub failures: u64,
    /// `failures / requests` (0 when nothing was sent).
    pub error_rate: f64,
    /// Count per HTTP status (transport errors have none).
    pub status_counts: std::collections::BTreeMap<u16, u64>,
    /// Latency of all requests.
    pub latency: LatencySummary,
    /// Wall time of the load phase.
    pub duration_s: f64,
    /// Why the load stopped before its plan was done, if it did.
    pub stopped_early: Option<String>,
}

/// Why the load could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// goose refused the configuration or failed to start.
    #[error("goose could not run the load: {0}")]
    Goose(String),
}

/// Runs the load and returns its metrics. `stop` is polled: when it returns a reason
/// (the service died, the user pressed Ctrl-C), the load is stopped.
pub async fn run_load(
    plan: &LoadPlan,
    counters: Arc<LoadCounters>,
    interrupt: Interrupt,
    stop: impl Fn() -> Option<String> + Send + 'static,
) -> Result<LoadResult, LoadError> {
    let started = Instant::now();
    let attack = build_attack(plan, counters)?;
    let max_duration = plan.max_duration;
    let reason: Arc<std::sync::Mutex<Option<String>>> = Arc::default();
    let watch_reason = reason.clone();
    // goose's own Ctrl-C handler is replaced by ours (see `interrupt`): re-trigger its
    // killswitch from here so that the load stops whatever happened first.
    let watchdog = tokio::spawn(async move {
        loop {
            let why = if interrupt.is_set() {
                Some("interrupted by the user".to_string())
            } else if started.elapsed() >= max_duration {
                Some(format!(
                    "load.max_duration_s ({} s) reached",
                    max_duration.as_secs()
                ))
            } else {
                stop()
            };
            if let Some(why) = why {
                goose::trigger_killswitch(&why);
                if let Ok(mut slot) = watch_reason.lock()
                    && slot.is_none()
                {
                    *slot = Some(why);
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let result = {
        let _stdout = GooseStdoutSilenced::silence();
        attack.execute().await
    };
    watchdog.abort();
    let metrics = result.map_err(|e| LoadError::Goose(format!("{e:?}")))?;
    let stopped_early = reason.lock().ok().and_then(|r| r.clone());
    Ok(summarize(&metrics, started.elapsed(), stopped_early))
}

/// goose prints `N users launched.` on stdout, unconditionally (its metrics and error
/// summary, the rest of what it prints there, are turned off). stdout belongs to the
/// verdict table (a user pipes it to a file), and on stderr the line would land in the
/// middle of the progress line: while an attack runs, stdout (fd 1) points at
/// `/dev/null`. It is restored when the last guard is dropped, also when the load is
/// abandoned after Ctrl-C. Nothing of ours writes to stdout during the load. If the
/// descriptors cannot be moved, stdout is left as it was.
struct GooseStdoutSilenced;

/// How many [`GooseStdoutSilenced`] guards are alive, and the real stdout the first one
/// saved: fd 1 is one per process, so overlapping loads share one redirection.
static SILENCED: Mutex<(usize, Option<OwnedFd>)> = Mutex::new((0, None));

impl GooseStdoutSilenced {
    fn silence() -> Self {
        let mut state = SILENCED.lock().unwrap_or_else(PoisonError::into_inner);
        state.0 += 1;
        if state.0 == 1 {
            state.1 = stdout_to_dev_null();
        }
        Self
    }
}

impl Drop for GooseStdoutSilenced {
    fn drop(&mut self) {
        let mut state = SILENCED.lock().unwrap_or_else(PoisonError::into_inner);
        state.0 -= 1;
        if state.0 == 0
            && let Some(saved) = state.1.take()
        {
            let _ = std::io::stdout().flush();
            // SAFETY: `saved` is an open descriptor we own; fd 1 is replaced.
            unsafe { libc::dup2(saved.as_raw_fd(), libc::STDOUT_FILENO) };
        }
    }
}

/// Points fd 1 at `/dev/null`; returns a copy of what it was, or `None` if it could
/// not be moved.
fn stdout_to_dev_null() -> Option<OwnedFd> {
    let _ = std::io::stdout().flush();
    let saved = std::io::stdout().as_fd().try_clone_to_owned().ok()?;
    let null = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .ok()?;
    // SAFETY: dup2 from a descriptor we own onto this process's stdout.
    (unsafe { libc::dup2(null.as_raw_fd(), libc::STDOUT_FILENO) } >= 0).then_some(saved)
}

fn build_attack(plan: &LoadPlan, counters: Arc<LoadCounters>) -> Result<GooseAttack, LoadError> {
    let mut config = GooseConfiguration::default();
    config.host = Some(plan.base_url.clone());
    config.users = Some(plan.users);
    config.increase_rate = Some(format!("{}", plan.increase_rate));
    config.iterations = plan.iterations;
    config.run_time = plan.run_time.map(|d| format!("{}s", d.as_secs().max(1)));
    config.timeout = Some(format!("{}", plan.request_timeout.as_secs_f64()));
    config.no_telnet = true;
    // Keep the requests made while users start (goose refuses the flag with a fixed count,
    // where it never resets).
    config.no_reset_metrics = plan.iterations.is_none();
    config.no_print_metrics = true;
    config.no_error_summary = true;
    config.quiet = 1;
    if let Some(html) = &plan.html_report {
        config.report_file = vec![html.display().to_string()];
    }
    let path: Arc<str> = Arc::from(plan.path.as_str());
    let think_time = plan.think_time;
    let transaction = Transaction::new(Arc::new(move |user| {
        let path = path.clone();
        let counters = counters.clone();
        Box::pin(async move {
            let result = user.get(&path).await;
            let ok = match &result {
                Ok(goose) => goose.request.success,
                Err(_) => false,
            };
            counters.done.fetch_add(1, Ordering::Relaxed);
            if !ok {
                counters.failed.fetch_add(1, Ordering::Relaxed);
            }
            if let Ok(goose) = result
                && let Ok(response) = goose.response
            {
                // Read the whole body, as a real client would.
                let _ = response.bytes().await;
            }
            if !think_time.is_zero() {
                tokio::time::sleep(think_time).await;
            }
            Ok(())
        })
    }))
    .set_name("movies");
    let scenario = GooseScenario::new("load").register_transaction(transaction);
    GooseAttack::initialize_with_config(config)
        .map(|attack| attack.register_scenario(scenario))
        .map_err(|e| LoadError::Goose(format!("{e:?}")))
}

fn summarize(
    metrics: &GooseMetrics,
    elapsed: Duration,
    stopped_early: Option<String>,
) -> LoadResult {
    let mut out = LoadResult {
        duration_s: elapsed.as_secs_f64(),
        stopped_early,
        ..LoadResult::default()
    };
    let mut buckets: Vec<(u64, usize)> = Vec::new();
    let (mut total_us, mut count, mut max_us) = (0u64, 0usize, 0u64);
    for aggregate in metrics.requests.values() {
        out.requests += (aggregate.success_count + aggregate.fail_count) as u64;
        out.failures += aggregate.fail_count as u64;
        for (status, n) in &aggregate.status_code_counts {
            *out.status_counts.entry(*status).or_default() += *n as u64;
        }
        let raw = &aggregate.raw_data;
        buckets.extend(raw.times_us.iter().map(|(b, n)| (*b, *n)));
        total_us += raw.total_time_us;
        count += raw.counter;
        max_us = max_us.max(raw.maximum_time_us);
    }
    if out.requests > 0 {
        out.error_rate = out.failures as f64 / out.requests as f64;
    }
    buckets.sort_unstable();
    let percentile = |q: f64| -> f64 {
        let total: usize = buckets.iter().map(|(_, n)| n).sum();
        if total == 0 {
            return 0.0;
        }
        let rank = ((q * total as f64).ceil() as usize).clamp(1, total);
        let mut seen = 0;
        for (bucket, n) in &buckets {
            seen += n;
            if seen >= rank {
                return *bucket as f64 / 1000.0;
            }
        }
        max_us as f64 / 1000.0
    };
    out.latency = LatencySummary {
        mean_ms: if count > 0 {
            total_us as f64 / count as f64 / 1000.0
        } else {
            0.0
        },
        p50_ms: percentile(0.50),
        p95_ms: percentile(0.95),
        p99_ms: percentile(0.99),
        max_ms: max_us as f64 / 1000.0,
    };
    out
}
