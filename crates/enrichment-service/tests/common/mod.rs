//! Shared test helpers: fixtures, an OMDB upstream on wiremock, the service
//! in-process or as its real binary (killed on drop), and `/metrics` parsing.
#![allow(dead_code)] // each test binary uses a different subset

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use clap::Parser;
use enrichment_service::{AppState, Config, app};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The API key every test uses; it must never show up in any output.
pub const SECRET_KEY: &str = "sekrit-omdb-key-4711";

/// A temporary SQLite fixture written by `movie-fixtures`.
pub struct Fixture {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

pub fn fixture(rows: u64) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("movies.sqlite");
    let catalog = movie_fixtures::Catalog::embedded().expect("dataset");
    movie_fixtures::write_sqlite(&path, &catalog, rows).expect("write fixture");
    Fixture { _dir: dir, path }
}

/// Answers `/?apikey=…&i=ID` with an OMDB-shaped object for that id.
struct OmdbResponder {
    delay: Duration,
}

impl Respond for OmdbResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let imdb_id = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "i")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        ResponseTemplate::new(200)
            .set_body_json(json!({
                "Title": format!("Film {imdb_id}"),
                "Year": "1998",
                "Plot": "A test plot long enough to look like a real one, more or less.",
                "imdbID": imdb_id,
                "Type": "movie",
                "Response": "True",
            }))
            .set_delay(self.delay)
    }
}

/// A wiremock OMDB upstream that answers every lookup after `delay`.
pub async fn healthy_upstream(delay: Duration) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/"))
        .respond_with(OmdbResponder { delay })
        .mount(&server)
        .await;
    server
}

/// A wiremock upstream that answers every request with `template`.
pub async fn upstream_answering(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

/// The service's router served in this process on a real socket.
pub struct InProcess {
    pub base: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn serve_in_process(upstream: &str, db: &std::path::Path, extra: &[&str]) -> InProcess {
    let mut args = vec![
        "enrichment-service".to_owned(),
        "--omdb-base-url".to_owned(),
        upstream.to_owned(),
        "--omdb-api-key".to_owned(),
        SECRET_KEY.to_owned(),
        "--database-path".to_owned(),
        db.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let config = Config::try_parse_from(args).expect("valid flags");
    let state = AppState::new(&config).expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        axum::serve(listener, app(state)).await.expect("serve");
    });
    InProcess {
        base: format!("http://{addr}"),
        task,
    }
}

/// A test-side HTTP client with a generous timeout (the box may be loaded).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()
        .expect("test client")
}

pub async fn get_json(url: &str) -> (u16, Value) {
    let response = http().get(url).send().await.expect("request");
    let status = response.status().as_u16();
    let body = response.json().await.expect("JSON body");
    (status, body)
}

pub async fn get_text(url: &str) -> (u16, String) {
    let response = http().get(url).send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// The value of the first sample whose name and labels start with `series` (e.g.
/// `enrichment_omdb_errors_total{kind="timeout"}`); 0 if absent.
pub fn metric(exposition: &str, series: &str) -> f64 {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            (name == series).then(|| value.parse().ok())?
        })
        .unwrap_or(0.0)
}

pub async fn metrics(base: &str) -> String {
    let (status, text) = get_text(&format!("{base}/metrics")).await;
    assert_eq!(status, 200);
    text
}

/// The real `enrichment-service` binary; killed (SIGKILL) and reaped on drop.
pub struct Service {
    child: Child,
    output: Arc<Mutex<String>>,
    pub base: String,
}

impl Service {
    /// Spawns the binary and waits (up to 120 s) for its `listening on` line.
    pub fn spawn(args: &[&str], envs: &[(&str, &str)]) -> Service {
        match Self::try_spawn(args, envs) {
            Ok(service) => service,
            Err((status, stderr)) => {
                panic!("service did not start ({status:?}); stderr:\n{stderr}")
            }
        }
    }

    /// Like `spawn`, but returns the exit status and stderr if it never listens.
    pub fn try_spawn(
        args: &[&str],
        envs: &[(&str, &str)],
    ) -> Result<Service, (Option<ExitStatus>, String)> {
        // ENRICHMENT_SERVICE_BIN runs the tests against another build (e.g. release).
        let binary = std::env::var_os("ENRICHMENT_SERVICE_BIN")
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_enrichment-service").into());
        let mut command = Command::new(binary);
        command
            .args(args)
            .env_remove("RUST_LOG")
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // A test run killed mid-way (Ctrl-C, a CI timeout) must not leave the
        // service behind: the kernel kills it when the spawning thread dies.
        let parent = std::process::id();
        // SAFETY: only async-signal-safe calls (prctl, getppid, _exit) run
        // between fork and exec.
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::getppid() as u32 != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
        let mut child = command.spawn().expect("spawn enrichment-service");
        let output = Arc::new(Mutex::new(String::new()));
        let (ready_tx, ready_rx) = mpsc::channel();
        let pipe = child.stderr.take().expect("stderr pipe");
        let sink = Arc::clone(&output);
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                {
                    let mut text = sink.lock().expect("output lock");
                    text.push_str(&line);
                    text.push('\n');
                }
                if let Some(addr) = line.split("listening on http://").nth(1) {
                    let _ = ready_tx.send(addr.trim().to_owned());
                }
            }
        });
        let out_pipe = child.stdout.take().expect("stdout pipe");
        let out_sink = Arc::clone(&output);
        std::thread::spawn(move || {
            for line in BufReader::new(out_pipe).lines().map_while(Result::ok) {
                let mut text = out_sink.lock().expect("output lock");
                text.push_str(&line);
                text.push('\n');
            }
        });
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut service = Service {
            child,
            output,
            base: String::new(),
        };
        while Instant::now() < deadline {
            match ready_rx.recv_timeout(Duration::from_millis(100)) {
                Ok(addr) => {
                    let addr: SocketAddr = addr.parse().expect("listening line has an address");
                    assert_ne!(addr.port(), 0, "the log must show the real port");
                    service.base = format!("http://{addr}");
                    return Ok(service);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Ok(Some(status)) = service.child.try_wait() {
                        // Let the reader threads drain the pipes.
                        std::thread::sleep(Duration::from_millis(200));
                        return Err((Some(status), service.output()));
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = service.wait_exit(Duration::from_secs(30));
                    return Err((status, service.output()));
                }
            }
        }
        Err((None, service.output()))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the process wrote to stdout and stderr so far.
    pub fn output(&self) -> String {
        self.output.lock().expect("output lock").clone()
    }

    /// A `kB` field of `/proc/PID/status` (`VmHWM`, `VmRSS` …), in KiB.
    pub fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("read /proc/PID/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("{field} missing from /proc/PID/status"))
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let pid = libc::pid_t::try_from(self.pid()).expect("pid fits");
        // SAFETY: plain kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0, "kill -TERM");
    }

    /// Waits up to `timeout` for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the binary to completion (for start-up failures), at most 60 s.
pub fn run_to_exit(args: &[&str], envs: &[(&str, &str)]) -> (Option<i32>, String) {
    match Service::try_spawn(args, envs) {
        Ok(service) => panic!("service started unexpectedly:\n{}", service.output()),
        Err((status, output)) => (status.and_then(|s| s.code()), output),
    }
}
