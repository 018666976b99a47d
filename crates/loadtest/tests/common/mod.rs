//! Helpers for the end-to-end tests: the real `loadtest` binary against the real
//! `enrichment-service` binary (or a misbehaving Python service), on loopback.

#![allow(dead_code)] // each test file uses its own subset

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The loadtest binary under test.
pub fn loadtest_bin() -> &'static str {
    env!("CARGO_BIN_EXE_loadtest")
}

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// The reference service, built in the same profile as this test (built if missing).
pub fn service_bin() -> PathBuf {
    let dir = std::env::current_exe()
        .expect("test exe")
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf();
    let bin = dir.join("enrichment-service");
    if !bin.is_file() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(workspace())
            .args(["build", "-p", "enrichment-service"])
            .status()
            .expect("cargo build -p enrichment-service");
        assert!(status.success(), "cargo build -p enrichment-service failed");
    }
    assert!(bin.is_file(), "{} is missing", bin.display());
    bin
}

/// The misbehaving Python service.
pub fn fake_service() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/services/fake_service.py")
}

/// A finished loadtest run.
#[derive(Debug)]
pub struct Finished {
    /// Exit code (None when killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Wall time.
    pub elapsed: Duration,
}

impl Finished {
    /// Both streams, for assertion messages.
    pub fn all(&self) -> String {
        format!("--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr)
    }
}

/// Starts loadtest with `args`.
pub fn spawn_loadtest(args: &[&str]) -> Child {
    Command::new(loadtest_bin())
        .args(args)
        .current_dir(workspace())
        .env("OOMGUARD_LOG", "loadtest=info,warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn loadtest")
}

/// Runs loadtest with `args` and waits (bounded by `limit`; killed past it).
pub fn run_loadtest(args: &[&str], limit: Duration) -> Finished {
    let started = Instant::now();
    let mut child = spawn_loadtest(args);
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("loadtest {args:?} ran past {limit:?}; killed");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Finished {
        code: status.code(),
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
        elapsed: started.elapsed(),
    }
}

/// Writes a scenario file into `dir`.
pub fn write_scenario(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).expect("write scenario");
    path
}

/// A small scenario for the reference service: `http_client`, `limit` movies per request,
/// `iterations` requests, and extra TOML appended (gates etc.).
pub fn reference_scenario(
    name: &str,
    http_client: &str,
    limit: u32,
    iterations: u32,
    extra: &str,
) -> String {
    format!(
        r#"
name = "{name}"
[vars]
http_client = "{http_client}"
[service]
command = "{{enrichment_service}}"
# A per-movie batch builds every client before its calls go out: on a busy box that
# can take longer than the default 10 s OMDB timeout, so give the calls room.
args = ["--port", "{{port}}", "--http-client", "{{http_client}}", "--omdb-timeout-ms", "120000"]
env = {{ OMDB_BASE_URL = "{{omdb_url}}", OMDB_API_KEY = "{{api_key}}", DATABASE_PATH = "{{db_path}}" }}
ready_timeout_ms = 30000
shutdown_grace_ms = 2000
[fixture]
rows = 300
[stub]
seed = 11
latency = {{ model = "uniform", min_ms = 10, max_ms = 60 }}
[load]
path = "/movies?limit={limit}"
users = 1
iterations = {iterations}
request_timeout_ms = 120000
max_duration_s = 300
{extra}
"#
    )
}

/// The summary.json of a run.
pub fn summary(out: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(out.join("summary.json")).expect("summary.json");
    serde_json::from_str(&text).expect("summary.json is JSON")
}

/// The status word of gate `name` in a summary.
pub fn gate(summary: &serde_json::Value, name: &str) -> String {
    summary["gates"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["name"] == name))
        .and_then(|g| g["status"].as_str())
        .unwrap_or("missing")
        .to_string()
}

/// Whether a process with this pid is alive (and not a zombie).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

/// Every descendant pid of `root` right now.
pub fn descendants(root: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut frontier = vec![root];
    while let Some(pid) = frontier.pop() {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let children =
                std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            for child in children
                .split_whitespace()
                .filter_map(|c| c.parse::<u32>().ok())
            {
                out.push(child);
                frontier.push(child);
            }
        }
    }
    out
}
