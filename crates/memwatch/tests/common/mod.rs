//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use memwatch::{LimitedChild, MemoryReport, Sampler, SamplerConfig, spawn_unconfined};

pub const MIB: u64 = 1 << 20;

/// A memhog command with the given flags; stdout discarded.
pub fn memhog(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_memhog"));
    cmd.args(args).stdout(Stdio::null());
    cmd
}

/// Runs memhog unconfined under a sampler until it exits; the child is killed on any panic
/// (LimitedChild's Drop).
pub fn sample_memhog(args: &[&str], config: SamplerConfig) -> MemoryReport {
    let mut child: LimitedChild = spawn_unconfined(memhog(args)).expect("spawn memhog");
    let sampler = Sampler::start(child.pid, config).expect("start sampler");
    // The sampler ends by itself when memhog exits (it sees the zombie); bounded wait.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !sampler.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let exit = child.wait().expect("memhog ends");
    assert_eq!(exit.code, Some(0), "memhog failed: {}", exit.describe());
    let report = sampler.stop().expect("sampler report");
    assert!(
        report.root_exited,
        "sampling should end when the root exits"
    );
    report
}

/// The RSS of an idle memhog (its baseline), measured the same way.
pub fn memhog_baseline_bytes() -> u64 {
    let report = sample_memhog(
        &["--mib", "0", "--hold-ms", "800"],
        SamplerConfig::default(),
    );
    assert!(report.samples > 5, "too few samples: {}", report.samples);
    report.peaks.rss_bytes
}

pub fn within(measured: u64, truth: u64, tolerance: f64) -> bool {
    (measured as f64 - truth as f64).abs() <= truth as f64 * tolerance
}

pub fn fast_config() -> SamplerConfig {
    SamplerConfig {
        interval: Duration::from_millis(20),
        ..SamplerConfig::default()
    }
}
