//! What the sampler produces: samples, peaks and the final report.

use std::time::Duration;

use serde::{Serialize, Serializer};

fn as_seconds<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// One reading of the whole process tree (root and all descendants).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Sample {
    /// Time since sampling started (serialized as `elapsed_seconds`).
    #[serde(rename = "elapsed_seconds", serialize_with = "as_seconds")]
    pub elapsed: Duration,
    /// Sum of `VmRSS` over the tree.
    pub rss_bytes: u64,
    /// Sum of `VmSwap` over the tree.
    pub swap_bytes: u64,
    /// Live (non-zombie) processes in the tree.
    pub processes: u32,
    /// Sum of threads over the tree.
    pub threads: u64,
    /// Open file descriptors over the tree (refreshed every `socket_scan_interval`).
    pub open_fds: u64,
    /// Open sockets over the tree (refreshed every `socket_scan_interval`).
    pub sockets: u64,
    /// The root process's own `VmHWM` (kernel-tracked peak RSS).
    pub root_hwm_bytes: u64,
}

impl Sample {
    /// RSS plus swap: the tree's real footprint when part of it is swapped out.
    pub fn rss_plus_swap_bytes(&self) -> u64 {
        self.rss_bytes + self.swap_bytes
    }
}

/// Highest values seen over the run; exact, never thinned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Peaks {
    /// Highest sampled tree RSS.
    pub rss_bytes: u64,
    /// Highest sampled tree RSS + swap.
    pub rss_plus_swap_bytes: u64,
    /// Highest sampled tree swap.
    pub swap_bytes: u64,
    /// Highest `VmHWM` of any single process: the kernel's own peak, which also catches a
    /// spike between two samples. A lower bound for the tree's peak.
    pub hwm_bytes: u64,
    /// Sum over every process ever seen in the tree of its `VmHWM`: an upper bound for the
    /// tree's peak (exact when all processes peaked at the same time).
    pub hwm_sum_bytes: u64,
    /// Most open file descriptors.
    pub open_fds: u64,
    /// Most open sockets.
    pub sockets: u64,
    /// Most threads.
    pub threads: u64,
    /// Most live processes.
    pub processes: u32,
}

impl Peaks {
    /// The best estimate of the tree's peak RSS: the larger of the sampled peak and the
    /// kernel's per-process peak (a spike between samples shows only in the latter).
    pub fn best_rss_peak_bytes(&self) -> u64 {
        self.rss_bytes.max(self.hwm_bytes)
    }
}

/// Peak figures of one process of the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcessPeak {
    /// Its pid.
    pub pid: u32,
    /// Its name (`/proc/PID/status` `Name:`).
    pub name: String,
    /// Highest sampled `VmRSS`.
    pub rss_peak_bytes: u64,
    /// Last `VmHWM` seen (the kernel's peak for this process).
    pub hwm_bytes: u64,
    /// Highest sampled `VmSwap`.
    pub swap_peak_bytes: u64,
}

/// The watchdog's simulated OOM kill: not the kernel's, always labelled as simulated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WatchdogKill {
    /// Always true: this kill was made by memwatch, not by the kernel.
    pub simulated: bool,
    /// The limit that was crossed.
    pub limit_bytes: u64,
    /// The value that crossed it (tree RSS, RSS+swap, or one process's `VmHWM`).
    pub observed_bytes: u64,
    /// When it was seen (serialized as `elapsed_seconds`).
    #[serde(rename = "elapsed_seconds", serialize_with = "as_seconds")]
    pub elapsed: Duration,
    /// Pids that were sent SIGKILL.
    pub killed_pids: Vec<u32>,
}

/// Everything the sampler learned, returned by [`crate::Sampler::stop`].
#[derive(Debug, Clone, Serialize)]
pub struct MemoryReport {
    /// The watched root pid.
    pub root_pid: u32,
    /// Samples taken.
    pub samples: u64,
    /// Ticks skipped because the sampler fell behind (a loaded machine).
    pub missed_ticks: u64,
    /// Sampling interval (serialized as `interval_seconds`).
    #[serde(rename = "interval_seconds", serialize_with = "as_seconds")]
    pub interval: Duration,
    /// Wall time sampled (serialized as `duration_seconds`).
    #[serde(rename = "duration_seconds", serialize_with = "as_seconds")]
    pub duration: Duration,
    /// Whether the root process exited before sampling was stopped.
    pub root_exited: bool,
    /// The bounded, thinned series (the peak sample is always kept).
    pub series: Vec<Sample>,
    /// Exact peaks.
    pub peaks: Peaks,
    /// Per-process peaks, by pid.
    pub processes: Vec<ProcessPeak>,
    /// True when the watchdog killed the tree (a *simulated* OOM kill).
    pub watchdog_killed: bool,
    /// Details of the watchdog's simulated kill.
    pub watchdog: Option<WatchdogKill>,
    /// CPU time the sampler thread used (`CLOCK_THREAD_CPUTIME_ID`: user + system, exact).
    pub sampler_cpu_seconds: f64,
    /// `sampler_cpu_seconds / duration`: the share of one core spent sampling.
    pub sampler_cpu_fraction: f64,
}
