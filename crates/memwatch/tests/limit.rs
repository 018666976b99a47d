//! Memory limits: a real kernel OOM kill in a cgroup, and the watchdog's simulated kill.

mod common;

use std::time::{Duration, Instant};

use common::{MIB, memhog};
use memwatch::{Confinement, LimitMode, MemwatchError, Sampler, SamplerConfig, spawn_limited};

fn wait_for_sampler(sampler: &Sampler) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !sampler.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn allocating_256_mib_under_a_128_mib_cgroup_is_a_real_oom_kill() {
    let limit = 128 * MIB;
    let mut child = match spawn_limited(
        memhog(&["--mib", "256", "--hold-ms", "5000"]),
        limit,
        LimitMode::Cgroup,
    ) {
        Ok(child) => child,
        Err(MemwatchError::LimitUnavailable { reason, .. }) => {
            eprintln!(
                "\n*** SKIPPED the cgroup OOM test: no memory cgroup can be had here: {reason}\n\
                 *** The watchdog path is tested instead (watchdog_kills_the_tree_and_labels_it_simulated).\n"
            );
            return;
        }
        Err(e) => panic!("spawn under a cgroup: {e}"),
    };
    let Confinement::Cgroup { path, version } = child.confinement.clone() else {
        panic!("expected cgroup confinement, got {:?}", child.confinement);
    };
    assert!(
        path.exists(),
        "cgroup dir {} exists while running",
        path.display()
    );
    assert_eq!(
        child.watchdog_limit_bytes(),
        None,
        "a real limit needs no watchdog"
    );
    let sampler = Sampler::start(child.pid, SamplerConfig::default()).expect("sampler");
    wait_for_sampler(&sampler);
    let exit = child.wait().expect("child ends");
    let report = sampler.stop().expect("report");
    let stats = exit.cgroup.expect("cgroup stats at exit");
    eprintln!(
        "{version:?} {}: {}; stats {stats:?}; sampled peak {} B",
        path.display(),
        exit.describe(),
        report.peaks.best_rss_peak_bytes()
    );
    assert!(
        exit.oom_killed,
        "expected a kernel OOM kill, got {}",
        exit.describe()
    );
    assert_eq!(exit.signal, Some(libc::SIGKILL));
    assert!(stats.oom_kills >= 1);
    assert_eq!(stats.limit_bytes, Some(limit));
    let peak = stats.peak_bytes.expect("the group's peak");
    assert!(
        peak <= limit && peak >= limit * 9 / 10,
        "group peak {peak} should be at the limit {limit}"
    );
    assert!(!report.watchdog_killed);
    assert!(
        exit.describe().contains("OOM killer"),
        "{}",
        exit.describe()
    );
    child.cleanup().expect("cleanup");
    assert!(!path.exists(), "cgroup dir {} removed", path.display());
}

#[test]
fn watchdog_kills_the_tree_and_labels_it_simulated() {
    let limit = 128 * MIB;
    let mut child = spawn_limited(
        memhog(&["--children", "2", "--mib", "100", "--hold-ms", "20000"]),
        limit,
        LimitMode::Watchdog,
    )
    .expect("spawn");
    assert!(child.confinement.is_simulated());
    let Confinement::Watchdog { reason } = &child.confinement else {
        panic!("expected the watchdog, got {:?}", child.confinement);
    };
    assert!(reason.contains("SIMULATED"), "{reason}");
    let config = SamplerConfig {
        watchdog_limit_bytes: child.watchdog_limit_bytes(),
        ..SamplerConfig::default()
    };
    let sampler = Sampler::start(child.pid, config).expect("sampler");
    wait_for_sampler(&sampler);
    let exit = child.wait().expect("child ends");
    let report = sampler.stop().expect("report");
    let kill = report.watchdog.clone().expect("the watchdog fired");
    eprintln!("watchdog: {kill:?}; exit {}", exit.describe());
    assert!(report.watchdog_killed && kill.simulated);
    assert!(kill.observed_bytes > limit);
    assert!(
        kill.killed_pids.len() >= 2,
        "root and at least one child: {:?}",
        kill.killed_pids
    );
    assert_eq!(exit.signal, Some(libc::SIGKILL));
    assert!(
        !exit.oom_killed,
        "a watchdog kill is never reported as the kernel's"
    );
    let json = memwatch::export::render_json(&report);
    assert!(json.contains("\"simulated\": true"), "{json}");
    // Every process of the tree is gone (children were in the process group).
    for pid in kill.killed_pids {
        let gone = (0..100).any(|_| {
            let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let dead = state.is_empty() || state.contains(") Z");
            if !dead {
                std::thread::sleep(Duration::from_millis(20));
            }
            dead
        });
        assert!(gone, "pid {pid} still alive");
    }
}

#[test]
fn auto_mode_says_which_confinement_it_got() {
    let mut child = spawn_limited(
        memhog(&["--mib", "1", "--hold-ms", "100"]),
        64 * MIB,
        LimitMode::Auto,
    )
    .expect("spawn");
    eprintln!("auto confinement: {:?}", child.confinement);
    match &child.confinement {
        Confinement::Cgroup { path, .. } | Confinement::SystemdScope { path, .. } => {
            assert!(path.exists())
        }
        Confinement::Watchdog { reason } => assert!(reason.contains("no cgroup"), "{reason}"),
        Confinement::None => panic!("a limit was asked for"),
    }
    let exit = child.wait().expect("wait");
    assert_eq!(exit.code, Some(0), "{}", exit.describe());
    child.cleanup().expect("cleanup");
}
