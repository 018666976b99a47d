//! The one-line progress display during the load: elapsed, requests, RSS, connections.
//! Shown only when stderr is a terminal; silent in CI logs.

use std::io::{IsTerminal, Write};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use memwatch::{ByteSize, Sampler};
use omdb_stub::OmdbStub;

use crate::load::LoadCounters;

/// What the progress line reads each tick.
pub struct ProgressSources<'a> {
    /// Load counters.
    pub counters: &'a LoadCounters,
    /// The service's memory.
    pub sampler: &'a Sampler,
    /// The stub (answered calls, open connections).
    pub stub: &'a OmdbStub,
    /// Requests planned in all (None for a timed load).
    pub planned: Option<u64>,
}

/// Whether a progress line will be shown.
pub fn enabled(wanted: bool) -> bool {
    wanted && std::io::stderr().is_terminal()
}

/// Redraws the progress line every 250 ms, forever: run it beside the load in a `select!`.
pub async fn show(sources: ProgressSources<'_>) {
    let _clear = ClearOnDrop;
    let started = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let done = sources.counters.done.load(Ordering::Relaxed);
        let failed = sources.counters.failed.load(Ordering::Relaxed);
        let rss = sources.sampler.latest().map(|s| s.rss_bytes).unwrap_or(0);
        let peak = sources.sampler.peaks().rss_bytes;
        let requests = match sources.planned {
            Some(total) => format!("{done}/{total}"),
            None => done.to_string(),
        };
        let line = format!(
            "  {:>6.1}s  requests {requests} ({failed} failed)  RSS {} (peak {})  upstream {} calls, {} open",
            started.elapsed().as_secs_f64(),
            ByteSize(rss),
            ByteSize(peak),
            sources.stub.requests_served(),
            sources.stub.open_connections(),
        );
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{line}");
        let _ = err.flush();
    }
}

struct ClearOnDrop;

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        let _ = write!(std::io::stderr(), "\r\x1b[2K");
    }
}
