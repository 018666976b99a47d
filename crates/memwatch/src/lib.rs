//! memwatch: a service's memory, measured the way the kernel sees it.
//!
//! Three jobs, usable on their own:
//!
//! * **Sampling** ([`Sampler`]): the RSS, swap, kernel peak (`VmHWM`), threads, open file
//!   descriptors and sockets of a process and all its descendants, on a dedicated thread at a
//!   fixed interval (20 ms by default), into a bounded series that keeps its exact peak,
//!   optionally streamed to CSV.
//! * **Confinement** ([`spawn_limited`]): run a command in a fresh memory cgroup (v1 or v2)
//!   or a systemd scope so that crossing the limit is a real kernel OOM kill; where neither
//!   can be had, say why and fall back to a watchdog whose kills are labelled *simulated*.
//! * **Exporters** ([`export`]): OpenMetrics and Prometheus text (via `prometheus-client`),
//!   written atomically for node_exporter's textfile collector, a live `/metrics` endpoint,
//!   CSV and JSON. Metric names: `oomguard_service_*`, labels `scenario` and `service`.
//!
//! Sizes are [`ByteSize`]: `512MiB` (binary), `512MB` (decimal), `512M` (binary, like
//! `docker -m`), shown with both units where they differ.
//!
//! ```no_run
//! use std::process::Command;
//! use memwatch::{LimitMode, Sampler, SamplerConfig, spawn_limited};
//!
//! # fn main() -> Result<(), memwatch::MemwatchError> {
//! let limit: memwatch::ByteSize = "512MiB".parse().expect("valid size");
//! let mut child = spawn_limited(Command::new("my-service"), limit.bytes(), LimitMode::Auto)?;
//! let sampler = Sampler::start(child.pid, SamplerConfig {
//!     watchdog_limit_bytes: child.watchdog_limit_bytes(), // Some only if no cgroup could be had
//!     ..SamplerConfig::default()
//! })?;
//! // ... drive load ...
//! let exit = child.wait()?;
//! let report = sampler.stop()?;
//! println!("peak RSS {}; {}", memwatch::ByteSize(report.peaks.best_rss_peak_bytes()), exit.describe());
//! child.cleanup()?;
//! # Ok(())
//! # }
//! ```

mod cgroup;
mod error;
pub mod export;
mod limit;
mod procfs;
mod sample;
mod sampler;
mod series;
mod size;
mod tree;

pub use cgroup::{cgroup_available, remove_own_cgroups, sweep_stale_cgroups};
pub use error::MemwatchError;
pub use export::{
    LiveEndpoint, LiveMetrics, MetricLabels, MetricValues, render_openmetrics,
    render_prometheus_text, write_atomically,
};
pub use limit::{
    CgroupStats, CgroupVersion, ChildExit, ChildStdio, Confinement, LimitMode, LimitedChild,
    spawn_limited, spawn_limited_with_stdio, spawn_unconfined,
};
pub use sample::{MemoryReport, Peaks, ProcessPeak, Sample, WatchdogKill};
pub use sampler::{ProcessTree, Sampler, SamplerConfig, WatchdogMeasure};
pub use size::{ACCEPTED_FORMS, ByteSize, ParseSizeError};
