//! End to end: the real `loadtest` binary runs the real service (or a misbehaving one)
//! against the stub, and must pass, fail or refuse exactly as the gates say.
//! Tests that load the box run one at a time, so memory figures stay honest.

mod common;

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::*;

static HEAVY: Mutex<()> = Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    HEAVY
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

const LIMIT: Duration = Duration::from_secs(600);

fn run_scenario(name: &str, text: &str) -> (Finished, std::path::PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = write_scenario(dir.path(), name, text);
    let out = dir.path().join("out");
    let bin = service_bin();
    let done = run_loadtest(
        &[
            "--no-progress",
            "run",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--service-bin",
            bin.to_str().unwrap(),
        ],
        LIMIT,
    );
    (done, out, dir)
}

#[test]
fn shared_client_passes_every_gate() {
    let _g = lock();
    let text = reference_scenario(
        "e2e-pass",
        "shared",
        100,
        3,
        "[gates]\nrss_budget = \"256MiB\"\nupstream_errors = \"fail\"\n",
    );
    let (done, out, _dir) = run_scenario("pass", &text);
    assert_eq!(done.code, Some(0), "{}", done.all());
    let s = summary(&out);
    for g in [
        "memory-budget",
        "client-per-call",
        "crash",
        "error-rate",
        "upstream-errors",
    ] {
        assert_eq!(gate(&s, g), "pass", "{g}\n{}", done.all());
    }
    assert_eq!(s["load"]["requests"], 3);
    assert_eq!(
        s["upstream"]["calls"], 300,
        "3 requests × 100 movies upstream"
    );
    assert_eq!(s["upstream"]["classification"]["strategy"], "pooled");
    assert!(s["memory"]["peak_rss_bytes"].as_u64().unwrap() > 1 << 20);
    assert!(s["memory"]["samples"].as_u64().unwrap() > 10);
    for file in [
        "summary.json",
        "summary.md",
        "junit.xml",
        "metrics.prom",
        "metrics.openmetrics",
        "rss.csv",
        "ledger.json",
        "service.log",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(
        junit.contains("testcase") && !junit.contains("<failure"),
        "{junit}"
    );
    let prom = std::fs::read_to_string(out.join("metrics.prom")).unwrap();
    assert!(prom.contains("oomguard_service_rss_peak_bytes{"), "{prom}");
    assert!(prom.contains("scenario=\"e2e-pass\""), "{prom}");
}

/// The real service with one client per incoming request (the incident's documented
/// fix), unbounded and with 64 calls in flight, and the shared client bounded: none of
/// them is taken for a client per call, and the stub sees the bound.
#[test]
fn a_client_per_request_and_a_bounded_shared_client_pass_the_client_gate() {
    let _g = lock();
    for (client, max_in_flight, strategy) in [
        ("per-request", 0, "per-request"),
        ("per-request", 64, "per-request"),
        ("shared", 64, "pooled"),
    ] {
        let case = format!("{client} with --max-in-flight {max_in_flight}");
        // 1000 movies per request, three requests a second apart (three bursts).
        let text = reference_scenario(
            "e2e-client-gate",
            client,
            1000,
            3,
            "think_time_ms = 1000\n[gates]\nrss_budget = \"off\"\n",
        )
        .replace("rows = 300", "rows = 1000")
        .replace(
            "DATABASE_PATH = \"{db_path}\"",
            &format!("DATABASE_PATH = \"{{db_path}}\", MAX_IN_FLIGHT = \"{max_in_flight}\""),
        );
        let (done, out, _dir) = run_scenario("client-gate", &text);
        assert_eq!(done.code, Some(0), "{case}\n{}", done.all());
        // stdout carries the verdict table only: goose's "1 users launched." is silenced.
        assert!(
            !done.stdout.contains("users launched")
                && done.stdout.contains("client strategy (ledger)"),
            "{case}: stdout:\n{}",
            done.stdout
        );
        let s = summary(&out);
        assert_eq!(
            gate(&s, "client-per-call"),
            "pass",
            "{case}\n{}",
            done.all()
        );
        let c = &s["upstream"]["classification"];
        assert_eq!(c["strategy"], strategy, "{case}\n{c:#}");
        let e = &c["evidence"];
        let number = |key: &str| {
            e[key]
                .as_f64()
                .unwrap_or_else(|| panic!("{case}: {key}\n{e:#}"))
        };
        assert_eq!(number("calls"), 3000.0, "{case}\n{e:#}");
        assert_eq!(number("bursts"), 3.0, "{case}\n{e:#}");
        let in_flight = number("max_calls_in_flight");
        if max_in_flight == 0 {
            assert!(in_flight > 500.0, "{case}: unbounded fan-out\n{e:#}");
        } else {
            assert!(
                (32.0..=66.0).contains(&in_flight),
                "{case}: the bound of 64 seen from the stub\n{e:#}"
            );
            assert!(number("max_open_connections") <= 72.0, "{case}\n{e:#}");
        }
        if client == "per-request" {
            // A new client per request: nothing carried across bursts, every
            // connection dropped by the client once its burst is answered.
            assert_eq!(
                number("connections_reused_across_bursts"),
                0.0,
                "{case}\n{e:#}"
            );
            assert!(number("closed_by_client_fraction") > 0.95, "{case}\n{e:#}");
            assert!(
                number("closes_at_burst_end_fraction") > 0.9,
                "{case}\n{e:#}"
            );
        } else {
            assert!(
                number("later_calls_on_reused_connections_fraction") > 0.9,
                "{case}\n{e:#}"
            );
        }
    }
}

#[test]
fn over_budget_service_fails_the_memory_gate() {
    let _g = lock();
    // Any real service is bigger than 2 MiB: the budget gate must trip, and only it.
    let text = reference_scenario(
        "e2e-budget",
        "shared",
        100,
        2,
        "[gates]\nrss_budget = \"2MiB\"\n",
    );
    let (done, out, _dir) = run_scenario("budget", &text);
    assert_eq!(done.code, Some(1), "{}", done.all());
    let s = summary(&out);
    assert_eq!(gate(&s, "memory-budget"), "fail", "{}", done.all());
    assert_eq!(gate(&s, "client-per-call"), "pass");
    assert_eq!(gate(&s, "crash"), "pass");
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        md.contains("FAIL") && md.contains("over the budget"),
        "{md}"
    );
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<failure").count(), 1, "{junit}");
}

#[test]
fn one_client_per_movie_is_flagged_per_call() {
    let _g = lock();
    let text = reference_scenario(
        "e2e-per-call",
        "per-movie",
        100,
        2,
        "[gates]\nrss_budget = \"4GiB\"\n",
    );
    let (done, out, _dir) = run_scenario("per-call", &text);
    assert_eq!(done.code, Some(1), "{}", done.all());
    let s = summary(&out);
    assert_eq!(gate(&s, "client-per-call"), "fail", "{}", done.all());
    assert_eq!(
        gate(&s, "memory-budget"),
        "pass",
        "a 4 GiB budget holds 100 clients"
    );
    let e = &s["upstream"]["classification"]["evidence"];
    // 2 requests × 100 movies; a call whose client gave up before the stub answered is
    // not counted, so allow a few.
    assert!((150..=200).contains(&e["calls"].as_u64().unwrap()), "{e}");
    assert!(e["new_connections_per_call"].as_f64().unwrap() > 0.9, "{e}");
    assert!(
        done.stdout.contains("per-call") || done.stdout.contains("per call"),
        "{}",
        done.all()
    );
}

#[test]
fn a_service_that_crashes_mid_run_fails_the_crash_gate_with_its_stderr() {
    let _g = lock();
    let text = format!(
        r#"
name = "e2e-crash"
[service]
command = "python3"
args = ["{}", "--port", "{{port}}", "--mode", "crash"]
ready_timeout_ms = 20000
[load]
path = "/movies?limit=10"
iterations = 2
request_timeout_ms = 10000
"#,
        fake_service().display()
    );
    let (done, out, _dir) = run_scenario("crash", &text);
    assert_eq!(done.code, Some(1), "{}", done.all());
    let s = summary(&out);
    assert_eq!(gate(&s, "crash"), "fail", "{}", done.all());
    assert_eq!(s["service_exit"]["died_during_run"], true);
    assert!(
        s["service_exit"]["status"]
            .as_str()
            .unwrap()
            .contains("code 42"),
        "{}",
        s["service_exit"]
    );
    assert!(
        done.stdout.contains("segfault-like crash"),
        "the service's stderr must be shown\n{}",
        done.all()
    );
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("segfault-like crash"), "{md}");
}

#[test]
fn a_service_that_never_becomes_ready_exits_3_within_its_timeout() {
    let _g = lock();
    let text = format!(
        r#"
name = "e2e-never-ready"
[service]
command = "python3"
args = ["{}", "--port", "{{port}}", "--mode", "never-ready"]
ready_timeout_ms = 2000
shutdown_grace_ms = 500
"#,
        fake_service().display()
    );
    let started = Instant::now();
    let (done, out, _dir) = run_scenario("never-ready", &text);
    assert_eq!(done.code, Some(3), "{}", done.all());
    // CI still gets a report to publish.
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(
        junit.contains("<error") && junit.contains("did not answer"),
        "{junit}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        done.stderr.contains("did not answer") && done.stderr.contains("ready_timeout_ms"),
        "{}",
        done.all()
    );
    assert!(
        done.stderr.contains("never listens"),
        "its last output must be shown\n{}",
        done.all()
    );
}

#[test]
fn a_memory_limit_that_cannot_be_had_exits_3_and_points_at_limit_mode() {
    if std::path::Path::new("/run/systemd/system").exists() {
        eprintln!("skipped: systemd is the init system here, so a systemd scope may be had");
        return;
    }
    let _g = lock();
    let text = format!(
        r#"
name = "e2e-no-systemd"
[service]
command = "python3"
args = ["{}", "--port", "{{port}}", "--mode", "crash"]
memory_limit = "512MiB"
limit_mode = "systemd"
"#,
        fake_service().display()
    );
    let (done, out, _dir) = run_scenario("no-systemd", &text);
    assert_eq!(done.code, Some(3), "{}", done.all());
    assert!(
        done.stderr.contains("a systemd scope")
            && done.stderr.contains("service.limit_mode")
            && !done.stderr.contains("check service.command"),
        "the help must name the limit, not the command\n{}",
        done.all()
    );
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(junit.contains("<error"), "{junit}");
}

#[test]
fn ctrl_c_in_the_middle_of_a_run_leaves_no_process_behind() {
    interrupt_mid_run(1);
}

#[test]
fn a_second_ctrl_c_kills_at_once_and_still_leaves_a_report() {
    interrupt_mid_run(2);
}

#[test]
fn ctrl_c_while_a_request_hangs_stops_within_seconds() {
    let _g = lock();
    let text = format!(
        r#"
name = "e2e-hang"
[service]
command = "python3"
args = ["{}", "--port", "{{port}}", "--mode", "hang"]
shutdown_grace_ms = 500
[load]
path = "/movies?limit=10"
users = 1
iterations = 1
request_timeout_ms = 600000
"#,
        fake_service().display()
    );
    let dir = tempfile::tempdir().unwrap();
    let file = write_scenario(dir.path(), "hang", &text);
    let out = dir.path().join("out");
    let mut child = spawn_loadtest(&[
        "--no-progress",
        "run",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let loadtest_pid = child.id();
    let started = Instant::now();
    while !std::fs::read_to_string(out.join("service.log"))
        .unwrap_or_default()
        .contains("hanging on /movies")
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the load never reached the service"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let service_pids = descendants(loadtest_pid);
    assert!(!service_pids.is_empty(), "the service runs under loadtest");
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(loadtest_pid as i32, libc::SIGINT);
    }
    let interrupted = Instant::now();
    // goose would wait for the hanging request (an hour); the run must not.
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if interrupted.elapsed() > Duration::from_secs(30) {
            // A second Ctrl-C kills everything at once: fail without leaving anything.
            // SAFETY: signalling our own child.
            unsafe {
                libc::kill(loadtest_pid as i32, libc::SIGINT);
            }
            let _ = child.wait();
            panic!("loadtest still running 30 s after Ctrl-C: it waits for the hanging request");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(130), "exit status after Ctrl-C");
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(junit.contains("interrupted"), "{junit}");
    // The abandoned attack never filled goose's report: no empty file is left for CI to
    // upload.
    let html = out.join("goose-report.html");
    assert!(
        std::fs::metadata(&html).map_or(true, |m| m.len() > 0),
        "empty {} left behind",
        html.display()
    );
    for pid in service_pids {
        assert!(!alive(pid), "pid {pid} outlived the run");
    }
}

/// Sends `signals` SIGINTs (50 ms apart) to a run in its load phase; the run must end
/// with exit status 130, no process left, and an "interrupted" verdict in place of an
/// older one.
fn interrupt_mid_run(signals: usize) {
    let _g = lock();
    // Slow upstream, many requests: the run is surely in its load phase when interrupted.
    let text = reference_scenario("e2e-ctrl-c", "shared", 100, 1000, "").replace(
        "latency = { model = \"uniform\", min_ms = 10, max_ms = 60 }",
        "latency = { model = \"fixed\", ms = 200 }",
    );
    let dir = tempfile::tempdir().unwrap();
    let file = write_scenario(dir.path(), "ctrl-c", &text);
    let bin = service_bin();
    let out = dir.path().join("out");
    // A verdict left by an earlier run in the same directory must not survive.
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("junit.xml"), "<testsuites>stale pass</testsuites>").unwrap();
    std::fs::write(out.join("summary.json"), r#"{"passed": true}"#).unwrap();
    let mut child = spawn_loadtest(&[
        "--no-progress",
        "run",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--service-bin",
        bin.to_str().unwrap(),
    ]);
    let loadtest_pid = child.id();
    // Wait until the service is up and has answered a request (its pid is a descendant).
    let started = Instant::now();
    let service_pids = loop {
        let pids: Vec<u32> = descendants(loadtest_pid)
            .into_iter()
            .filter(|p| {
                std::fs::read_to_string(format!("/proc/{p}/comm"))
                    .unwrap_or_default()
                    .starts_with("enrichment-")
            })
            .collect();
        if !pids.is_empty()
            && std::fs::read_to_string(out.join("rss.csv"))
                .map(|t| t.lines().count() > 50)
                .unwrap_or(false)
        {
            break pids;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the service never started"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    std::thread::sleep(Duration::from_millis(1500));
    for _ in 0..signals {
        // SAFETY: signalling our own child.
        unsafe {
            libc::kill(loadtest_pid as i32, libc::SIGINT);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "loadtest did not exit after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(130), "exit status after Ctrl-C");
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(
        junit.contains("<error") && junit.contains("interrupted") && !junit.contains("stale"),
        "{junit}"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["passed"], serde_json::json!(false), "{summary}");
    assert!(summary["interrupted"].is_string(), "{summary}");
    for pid in service_pids {
        assert!(!alive(pid), "service pid {pid} outlived the run");
    }
    assert!(descendants(loadtest_pid).is_empty());
    let prefix = format!("oomguard-{loadtest_pid}-");
    for hierarchy in ["/sys/fs/cgroup/memory", "/sys/fs/cgroup"] {
        for entry in std::fs::read_dir(hierarchy).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(
                !name.starts_with(&prefix),
                "cgroup {hierarchy}/{name} outlived the run"
            );
        }
    }
}

#[test]
fn a_detached_grandchild_does_not_outlive_the_run() {
    let _g = lock();
    if !memwatch::cgroup_available() {
        eprintln!(
            "SKIPPED: no memory cgroup can be created here (not root?): detached processes can only be found through one"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("grandchild.pid");
    let text = format!(
        r#"
name = "e2e-detach"
[service]
command = "python3"
args = ["{}", "--port", "{{port}}", "--mode", "detach", "--pid-file", "{}"]
ready_timeout_ms = 20000
[load]
path = "/movies?limit=10"
iterations = 2
[gates]
client_per_call = "off"
"#,
        fake_service().display(),
        pid_file.display()
    );
    let (done, _out, _dir) = run_scenario("detach", &text);
    assert_eq!(done.code, Some(0), "{}", done.all());
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        !alive(pid),
        "the detached grandchild {pid} outlived the run"
    );
}

#[test]
fn upstream_errors_from_a_wrong_api_key_are_reported() {
    let _g = lock();
    let text = reference_scenario(
        "e2e-wrong-key",
        "shared",
        100,
        2,
        "[gates]\nupstream_errors = \"fail\"\n",
    )
    .replace(
        "OMDB_API_KEY = \"{api_key}\"",
        "OMDB_API_KEY = \"not-the-key\"",
    )
    .replace("seed = 11", "seed = 11\napi_key = \"the-right-key\"");
    let (done, out, _dir) = run_scenario("wrong-key", &text);
    assert_eq!(done.code, Some(1), "{}", done.all());
    let s = summary(&out);
    assert_eq!(gate(&s, "upstream-errors"), "fail", "{}", done.all());
    assert_eq!(
        gate(&s, "error-rate"),
        "pass",
        "the service still answers 200"
    );
    assert_eq!(
        s["upstream"]["status_counts"]["401"], 200,
        "{}",
        s["upstream"]
    );
}

/// Holds `out/.lock` as a running loadtest would, until the file is dropped.
fn hold_out_dir_lock(out: &Path) -> std::fs::File {
    use std::os::fd::AsRawFd;
    let lock = std::fs::File::create(out.join(".lock")).unwrap();
    // SAFETY: flock on a descriptor we own.
    assert_eq!(
        unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) },
        0
    );
    lock
}

#[test]
fn a_second_run_into_the_same_out_dir_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let _lock = hold_out_dir_lock(&out);
    std::fs::write(out.join("summary.md"), "the other run's report").unwrap();
    let text = reference_scenario("e2e-busy", "shared", 10, 1, "");
    let file = write_scenario(dir.path(), "busy", &text);
    let done = run_loadtest(
        &[
            "--no-progress",
            "run",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--service-bin",
            "/bin/true",
        ],
        Duration::from_secs(60),
    );
    assert_eq!(done.code, Some(3), "{}", done.all());
    assert!(
        done.stderr.contains("another loadtest run"),
        "{}",
        done.all()
    );
    assert_eq!(
        std::fs::read_to_string(out.join("summary.md")).unwrap(),
        "the other run's report"
    );

    // A reproduction whose first half is busy runs nothing and touches neither half.
    let repro = dir.path().join("repro");
    for half in ["per-movie", "shared"] {
        std::fs::create_dir_all(repro.join(half)).unwrap();
        std::fs::write(
            repro.join(half).join("summary.md"),
            "the other run's report",
        )
        .unwrap();
    }
    let _repro_lock = hold_out_dir_lock(&repro.join("per-movie"));
    let done = run_loadtest(
        &[
            "--no-progress",
            "--out",
            repro.to_str().unwrap(),
            "--service-bin",
            "/bin/true",
        ],
        Duration::from_secs(60),
    );
    assert_eq!(done.code, Some(3), "{}", done.all());
    for half in ["per-movie", "shared"] {
        assert_eq!(
            std::fs::read_to_string(repro.join(half).join("summary.md")).unwrap(),
            "the other run's report",
            "{half}\n{}",
            done.all()
        );
    }
}
