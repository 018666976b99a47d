//! The exposition formats against the real tools: `promtool check metrics` and a real
//! Prometheus scraping the live endpoint. Without the tools installed these tests skip loudly,
//! or fail when `OOMGUARD_REQUIRE_PROMETHEUS=1` (CI sets it).

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use memwatch::{
    LiveEndpoint, LiveMetrics, MetricLabels, MetricValues, render_openmetrics,
    render_prometheus_text,
};

/// The tool's path, or `None` after a loud skip message (panics when required).
fn require_tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let msg = format!(
            "`{name}` is not installed (apt-get install -y prometheus); the Prometheus exposition is NOT checked"
        );
        if std::env::var("OOMGUARD_REQUIRE_PROMETHEUS").as_deref() == Ok("1") {
            panic!("OOMGUARD_REQUIRE_PROMETHEUS=1 but {msg}");
        }
        eprintln!("\n*** SKIPPED: {msg}\n");
    }
    found
}

fn labels() -> MetricLabels {
    MetricLabels {
        scenario: "oom-repro".into(),
        service: "enrichment \"service\"\\1".into(),
    }
}

fn values() -> MetricValues {
    MetricValues {
        rss_bytes: 300 << 20,
        rss_peak_bytes: 310 << 20,
        rss_budget_bytes: Some(512 << 20),
        rss_plus_swap_bytes: 301 << 20,
        open_fds: 17,
        sockets: 9,
        threads: 4,
        processes: 1,
        oom_kills_total: 1,
        samples_total: 1234,
        memory_limit_bytes: Some(128 << 20),
        cgroup_peak_bytes: Some(128 << 20),
        cgroup_usage_bytes: Some(4096),
        ..MetricValues::default()
    }
}

#[test]
fn exposition_uses_the_design_names_and_never_process_star() {
    let text = render_prometheus_text(&labels(), &values());
    let om = render_openmetrics(&labels(), &values());
    for name in [
        "oomguard_service_rss_bytes{",
        "oomguard_service_rss_peak_bytes{",
        "oomguard_service_rss_budget_bytes{",
        "oomguard_service_rss_plus_swap_bytes{",
        "oomguard_service_open_fds{",
        "oomguard_service_sockets{",
        "oomguard_service_threads{",
        "oomguard_service_open_fds_peak{",
        "oomguard_service_sockets_peak{",
        "oomguard_service_threads_peak{",
        "oomguard_service_processes{",
        "oomguard_service_processes_peak{",
        "oomguard_service_oom_kills_total{",
        "oomguard_service_simulated_oom_kills_total{",
        "oomguard_service_cgroup_peak_bytes{",
    ] {
        assert!(text.contains(name), "{name} missing from\n{text}");
        assert!(om.contains(name), "{name} missing from\n{om}");
    }
    assert!(text.contains("scenario=\"oom-repro\""), "{text}");
    assert!(!text.contains("process_") && !om.contains("\nprocess_"));
    assert!(om.ends_with("# EOF\n"), "{om}");
    assert!(!text.contains("# EOF"));
    assert!(text.contains("oomguard_service_rss_bytes{scenario=\"oom-repro\",service=\"enrichment \\\"service\\\"\\\\1\"} 314572800"), "{text}");
}

#[test]
fn promtool_accepts_the_atomically_written_file() {
    let Some(promtool) = require_tool("promtool") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("oomguard.prom");
    memwatch::write_atomically(
        &path,
        render_prometheus_text(&labels(), &values()).as_bytes(),
    )
    .expect("write");
    // Only the final file is left behind, no temporaries.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("oomguard.prom")]);
    let output = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(&path).expect("open"))
        .output()
        .expect("run promtool");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && said.trim().is_empty(),
        "promtool: {}\n{said}",
        output.status
    );
    // A file with a bad line is rejected: the check can fail.
    let broken = dir.path().join("broken.prom");
    std::fs::write(&broken, "oomguard_service_rss_bytes{scenario=\"x\" 12\n").expect("write");
    let rejected = Command::new(require_tool("promtool").expect("found above"))
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(&broken).expect("open"))
        .output()
        .expect("run promtool");
    assert!(
        !rejected.status.success(),
        "promtool must reject a broken file"
    );
}

/// Kills and reaps the Prometheus server, also on panic.
struct KillOnDrop(Child);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

async fn query(client: &reqwest::Client, prom: &str, expr: &str) -> Option<f64> {
    let body: serde_json::Value = client
        .get(format!("{prom}/api/v1/query"))
        .query(&[("query", expr)])
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    body["data"]["result"][0]["value"][1].as_str()?.parse().ok()
}

async fn wait_for_value(client: &reqwest::Client, prom: &str, expr: &str, want: f64) {
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut last = None;
    while Instant::now() < deadline {
        last = query(client, prom, expr).await;
        if last == Some(want) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("Prometheus never held {expr} = {want} (last {last:?})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scrapes_the_live_endpoint() {
    let Some(prometheus) = require_tool("prometheus") else {
        return;
    };
    let live = Arc::new(LiveMetrics::new(labels(), values()));
    let endpoint = LiveEndpoint::start("127.0.0.1:0".parse().expect("addr"), Arc::clone(&live))
        .expect("endpoint");
    let client = reqwest::Client::new();

    // Content negotiation.
    let om = client
        .get(endpoint.url())
        .header(
            "Accept",
            "application/openmetrics-text;version=1.0.0,text/plain;q=0.5",
        )
        .send()
        .await
        .expect("scrape");
    assert!(
        om.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("application/openmetrics-text")
    );
    assert!(om.text().await.expect("body").ends_with("# EOF\n"));
    let plain = client.get(endpoint.url()).send().await.expect("scrape");
    assert!(
        plain.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/plain; version=0.0.4")
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("prometheus.yml");
    let target = endpoint.addr().to_string();
    let mut file = std::fs::File::create(&config).expect("config");
    write!(
        file,
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: oomguard\n    static_configs:\n      - targets: ['{target}']\n"
    )
    .expect("write config");
    let port = free_port();
    let prom = format!("http://127.0.0.1:{port}");
    let _server = KillOnDrop(
        Command::new(prometheus)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus"),
    );
    let selector = "{scenario=\"oom-repro\",job=\"oomguard\"}";
    wait_for_value(
        &client,
        &prom,
        &format!("oomguard_service_rss_bytes{selector}"),
        (300u64 << 20) as f64,
    )
    .await;
    wait_for_value(
        &client,
        &prom,
        &format!("oomguard_service_oom_kills_total{selector}"),
        1.0,
    )
    .await;
    wait_for_value(
        &client,
        &prom,
        &format!("oomguard_service_rss_budget_bytes{selector}"),
        (512u64 << 20) as f64,
    )
    .await;
    // Live: a change is picked up by the next scrape.
    live.update(|v| v.rss_bytes = 42 << 20);
    wait_for_value(
        &client,
        &prom,
        &format!("oomguard_service_rss_bytes{selector}"),
        (42u64 << 20) as f64,
    )
    .await;
    endpoint.shutdown();
}
