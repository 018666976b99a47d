//! The sampler: a dedicated thread that reads the process tree at a fixed rate.
//!
//! It runs on its own OS thread (never on an async runtime) so that a busy runtime cannot
//! delay a sample. Ticks are scheduled at fixed times; a tick that cannot be honoured because
//! the machine is overloaded is counted in [`MemoryReport::missed_ticks`], not silently shifted.

use std::fs::File;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::MemwatchError;
use crate::export::LiveMetrics;
use crate::procfs::StatusFile;
use crate::sample::{MemoryReport, Peaks, Sample, WatchdogKill};
use crate::series::Series;
use crate::tree::Tree;

/// Which figure the watchdog compares with its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WatchdogMeasure {
    /// Tree RSS only.
    Rss,
    /// Tree RSS + swap (what a cgroup with `memory.swap.max=0` would have had to hold).
    #[default]
    RssPlusSwap,
}

/// How the sampler samples.
#[derive(Debug, Clone)]
pub struct SamplerConfig {
    /// Time between two samples (default 20 ms).
    pub interval: Duration,
    /// How often the process table is re-read to find new descendants (default 200 ms).
    pub tree_refresh: Duration,
    /// How often `/proc/PID/fd` is listed to count descriptors and sockets (default 250 ms);
    /// samples in between carry the last counts.
    pub socket_scan_interval: Duration,
    /// How often the full `/proc/PID/status` (kernel peak `VmHWM`, swap, threads) is read
    /// (default 200 ms); RSS itself is read on every sample from the cheaper `statm`.
    /// `VmHWM` is the kernel's running peak, so reading it less often loses no peak.
    pub full_read_interval: Duration,
    /// Bound on the kept time series; it is thinned beyond this, keeping the peak sample.
    pub max_points: usize,
    /// Stream every sample to this CSV file as it is taken.
    pub csv_path: Option<PathBuf>,
    /// Simulated OOM kill: SIGKILL the tree when it crosses this many bytes (see
    /// [`SamplerConfig::watchdog_measure`]) or when one process's `VmHWM` does.
    pub watchdog_limit_bytes: Option<u64>,
    /// The figure the watchdog compares with its limit.
    pub watchdog_measure: WatchdogMeasure,
    /// Live values to update on every sample, for [`crate::LiveEndpoint`].
    pub live: Option<Arc<LiveMetrics>>,
}

impl Default for SamplerConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_millis(20),
            tree_refresh: Duration::from_millis(200),
            socket_scan_interval: Duration::from_millis(250),
            full_read_interval: Duration::from_millis(200),
            max_points: 4096,
            csv_path: None,
            watchdog_limit_bytes: None,
            watchdog_measure: WatchdogMeasure::default(),
            live: None,
        }
    }
}

#[derive(Default)]
struct Shared {
    stop: Mutex<bool>,
    wake: Condvar,
    state: Mutex<(Option<Sample>, Peaks)>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running sampler; [`Sampler::stop`] ends it and returns the report.
#[derive(Debug)]
pub struct Sampler {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<MemoryReport>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

impl Sampler {
    /// Starts sampling `root_pid` and its descendants on a dedicated thread.
    pub fn start(root_pid: u32, config: SamplerConfig) -> Result<Sampler, MemwatchError> {
        if config.interval < Duration::from_millis(1) {
            return Err(MemwatchError::InvalidConfig(format!(
                "sampling interval {:?} is below 1 ms",
                config.interval
            )));
        }
        StatusFile::open(root_pid).map_err(|_| MemwatchError::NoSuchProcess { pid: root_pid })?;
        let csv = match &config.csv_path {
            Some(path) => Some(csv::Writer::from_writer(
                File::create(path)
                    .map_err(|e| MemwatchError::io("cannot create the CSV series", path, e))?,
            )),
            None => None,
        };
        let shared = Arc::new(Shared::default());
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("memwatch-sampler".into())
            .spawn(move || run(root_pid, config, csv, &thread_shared))
            .map_err(|e| MemwatchError::io("cannot start the sampler thread", "", e))?;
        Ok(Sampler {
            shared,
            thread: Some(thread),
        })
    }

    /// The most recent sample, if one was taken.
    pub fn latest(&self) -> Option<Sample> {
        lock(&self.shared.state).0
    }

    /// Peaks so far.
    pub fn peaks(&self) -> Peaks {
        lock(&self.shared.state).1
    }

    /// Whether the sampler ended by itself (the root process exited).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Stops sampling and returns the report.
    pub fn stop(mut self) -> Result<MemoryReport, MemwatchError> {
        self.signal_stop();
        let thread = self.thread.take().ok_or(MemwatchError::SamplerPanicked)?;
        thread.join().map_err(|_| MemwatchError::SamplerPanicked)
    }

    fn signal_stop(&self) {
        *lock(&self.shared.stop) = true;
        self.shared.wake.notify_all();
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.signal_stop();
            let _ = thread.join();
        }
    }
}

/// CPU time used so far by the calling thread, from `CLOCK_THREAD_CPUTIME_ID` (the
/// scheduler's exact runtime; `getrusage` is tick-sampled and overcharges a thread that wakes
/// on timer ticks, as a periodic sampler does).
pub(crate) fn thread_cpu_time() -> Duration {
    // SAFETY: clock_gettime writes into the zeroed timespec we own.
    let ts = unsafe {
        let mut ts: libc::timespec = std::mem::zeroed();
        if libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) != 0 {
            return Duration::ZERO;
        }
        ts
    };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn kill_tree(root: u32, pids: &[u32]) -> Vec<u32> {
    let mut killed = Vec::new();
    let root_i = root as libc::pid_t;
    // SAFETY: plain syscalls on pids that belong to the watched tree.
    unsafe {
        if libc::getpgid(root_i) == root_i {
            libc::killpg(root_i, libc::SIGKILL);
        }
        for &pid in pids {
            if libc::kill(pid as libc::pid_t, libc::SIGKILL) == 0 {
                killed.push(pid);
            }
        }
    }
    killed.sort_unstable();
    killed
}

fn run(
    root: u32,
    config: SamplerConfig,
    mut csv: Option<csv::Writer<File>>,
    shared: &Shared,
) -> MemoryReport {
    let cpu_start = thread_cpu_time();
    let start = Instant::now();
    let mut tree = Tree::new(root, config.socket_scan_interval, config.full_read_interval);
    let mut series = Series::new(config.max_points);
    let mut peaks = Peaks::default();
    let mut samples = 0u64;
    let mut missed_ticks = 0u64;
    let mut root_exited = false;
    let mut watchdog: Option<WatchdogKill> = None;
    let mut next_tick = start;
    let mut next_refresh = start;
    loop {
        let now = Instant::now();
        if now >= next_refresh {
            tree.discover();
            next_refresh = now + config.tree_refresh;
        }
        let reading = tree.read(start.elapsed());
        if reading.root_gone {
            root_exited = true;
            break;
        }
        let sample = reading.sample;
        samples += 1;
        peaks.rss_bytes = peaks.rss_bytes.max(sample.rss_bytes);
        peaks.rss_plus_swap_bytes = peaks.rss_plus_swap_bytes.max(sample.rss_plus_swap_bytes());
        peaks.swap_bytes = peaks.swap_bytes.max(sample.swap_bytes);
        peaks.hwm_bytes = peaks.hwm_bytes.max(reading.max_hwm_bytes);
        peaks.hwm_sum_bytes = tree.hwm_sum_bytes();
        peaks.open_fds = peaks.open_fds.max(sample.open_fds);
        peaks.sockets = peaks.sockets.max(sample.sockets);
        peaks.threads = peaks.threads.max(sample.threads);
        peaks.processes = peaks.processes.max(sample.processes);
        series.push(sample);
        if let Some(writer) = csv.as_mut()
            && let Err(e) = writer.serialize(sample).and_then(|()| Ok(writer.flush()?))
        {
            tracing::warn!(error = %e, "CSV series stopped: cannot write");
            csv = None;
        }
        *lock(&shared.state) = (Some(sample), peaks);

        if let (Some(limit), None) = (config.watchdog_limit_bytes, &watchdog) {
            let tree_bytes = match config.watchdog_measure {
                WatchdogMeasure::Rss => sample.rss_bytes,
                WatchdogMeasure::RssPlusSwap => sample.rss_plus_swap_bytes(),
            };
            let observed = tree_bytes.max(reading.max_hwm_bytes);
            if observed > limit {
                let killed_pids = kill_tree(root, &tree.pids());
                tracing::warn!(
                    limit_bytes = limit,
                    observed_bytes = observed,
                    "watchdog: simulated OOM kill of the process tree (not the kernel's)"
                );
                watchdog = Some(WatchdogKill {
                    simulated: true,
                    limit_bytes: limit,
                    observed_bytes: observed,
                    elapsed: sample.elapsed,
                    killed_pids,
                });
            }
        }
        if let Some(live) = &config.live {
            let killed = u64::from(watchdog.is_some());
            live.update(|v| {
                v.record(&sample, &peaks, samples);
                v.simulated_oom_kills_total = killed;
            });
        }

        next_tick += config.interval;
        let now = Instant::now();
        if next_tick < now {
            let behind = now.duration_since(next_tick).as_nanos() / config.interval.as_nanos();
            missed_ticks += behind as u64 + 1;
            next_tick += config.interval * (behind as u32 + 1);
        }
        let mut stop = lock(&shared.stop);
        while !*stop {
            let now = Instant::now();
            if now >= next_tick {
                break;
            }
            stop = shared
                .wake
                .wait_timeout(stop, next_tick - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        if *stop {
            break;
        }
    }
    let duration = start.elapsed();
    let cpu = (thread_cpu_time().saturating_sub(cpu_start)).as_secs_f64();
    MemoryReport {
        root_pid: root,
        samples,
        missed_ticks,
        interval: config.interval,
        duration,
        root_exited,
        series: series.finish(),
        peaks,
        processes: tree.process_peaks(),
        watchdog_killed: watchdog.is_some(),
        watchdog,
        sampler_cpu_seconds: cpu,
        sampler_cpu_fraction: cpu / duration.as_secs_f64().max(1e-9),
    }
}

/// The sampler's work for one tick, without the thread: for one-off readings and benchmarks.
pub struct ProcessTree {
    tree: Tree,
    start: Instant,
}

impl ProcessTree {
    /// Watches `root_pid` with `config`'s full-read and socket-scan intervals.
    pub fn new(root_pid: u32, config: &SamplerConfig) -> Result<Self, MemwatchError> {
        StatusFile::open(root_pid).map_err(|_| MemwatchError::NoSuchProcess { pid: root_pid })?;
        let mut tree = Tree::new(
            root_pid,
            config.socket_scan_interval,
            config.full_read_interval,
        );
        tree.discover();
        Ok(Self {
            tree,
            start: Instant::now(),
        })
    }

    /// Re-scans `/proc` for new descendants.
    pub fn discover(&mut self) {
        self.tree.discover();
    }

    /// Reads every known process once; `None` once the root is gone.
    pub fn sample(&mut self) -> Option<Sample> {
        let reading = self.tree.read(self.start.elapsed());
        (!reading.root_gone).then_some(reading.sample)
    }
}
