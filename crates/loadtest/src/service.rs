//! The service under test as a real process: spawned in its own process group (and a
//! memory cgroup when the scenario sets a limit), its output kept, its readiness awaited,
//! and torn down with SIGTERM then SIGKILL — whatever happened.

use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use memwatch::{CgroupStats, ChildExit, ChildStdio, Confinement, LimitMode, LimitedChild};

use crate::interrupt::{self, Interrupt};

/// Lines of service output kept for reports.
const TAIL_LINES: usize = 40;

/// The "limit" of a cgroup used only to find every process of the service (none is enforced).
pub const TRACKING_ONLY_LIMIT: u64 = 1 << 62;

/// Most bytes of service output written to `service.log`; the rest is counted, not kept.
const LOG_CAP_BYTES: u64 = 64 * 1024 * 1024;

/// How to start the service.
#[derive(Debug, Clone)]
pub struct ServiceCommand {
    /// Program.
    pub program: String,
    /// Arguments.
    pub args: Vec<String>,
    /// Extra environment.
    pub env: BTreeMap<String, String>,
    /// Working directory.
    pub cwd: PathBuf,
    /// Memory limit and how to enforce it.
    pub memory_limit: Option<(u64, LimitMode)>,
    /// Where the whole output is written.
    pub log_path: PathBuf,
}

/// Why the service could not be started or never became ready (exit status 3).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The program could not be started.
    #[error(
        "cannot start the service `{program}`: {reason}\n  help: check service.command in the scenario (the path, and that it is executable)"
    )]
    Spawn {
        /// Program.
        program: String,
        /// Why.
        reason: String,
    },
    /// The memory limit the scenario asked for cannot be had here.
    #[error(
        "cannot start the service `{program}` under its memory limit: {reason}\n  help: set service.limit_mode = \"auto\" (cgroup, else systemd scope, else the watchdog), or run where that limit can be had (see the README on cgroups and sudo)"
    )]
    Confine {
        /// Program.
        program: String,
        /// What memwatch said.
        reason: String,
    },
    /// The service exited before it answered its readiness path.
    #[error(
        "the service exited before it became ready: {status}\n{tail}  help: run the command by hand to see why; its output is in {log}"
    )]
    ExitedBeforeReady {
        /// Exit status in words.
        status: String,
        /// Its last output lines, indented.
        tail: String,
        /// Log file.
        log: String,
    },
    /// The readiness path never answered 2xx in time.
    #[error(
        "the service did not answer {url} with 2xx within {timeout_ms} ms (last: {last})\n{tail}  help: raise service.ready_timeout_ms, or check service.ready_path and that the service listens on {{port}}"
    )]
    NotReady {
        /// The readiness URL.
        url: String,
        /// The timeout.
        timeout_ms: u64,
        /// The last answer or error.
        last: String,
        /// Its last output lines, indented.
        tail: String,
    },
    /// Ctrl-C while waiting.
    #[error("interrupted while waiting for the service to become ready")]
    Interrupted,
}

/// The service's last output lines, shared with the reader threads.
#[derive(Debug, Clone, Default)]
pub struct OutputTail(Arc<Mutex<VecDeque<String>>>);

impl OutputTail {
    fn push(&self, line: String) {
        if let Ok(mut lines) = self.0.lock() {
            if lines.len() == TAIL_LINES {
                lines.pop_front();
            }
            lines.push_back(line);
        }
    }

    /// The kept lines, oldest first.
    pub fn lines(&self) -> Vec<String> {
        self.0
            .lock()
            .map(|l| l.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn indented(&self) -> String {
        self.lines()
            .iter()
            .map(|l| format!("    | {l}\n"))
            .collect()
    }
}

/// A running service.
pub struct RunningService {
    pid: u32,
    confinement: Confinement,
    child: Arc<Mutex<LimitedChild>>,
    exit: Arc<OnceLock<ChildExit>>,
    poller: tokio::task::JoinHandle<()>,
    output: OutputTail,
    log_path: PathBuf,
    torn_down: bool,
}

/// What teardown found.
#[derive(Debug, Clone)]
pub struct Teardown {
    /// It had exited on its own before teardown began.
    pub died_during_run: bool,
    /// Its final exit status in words.
    pub status: String,
    /// Cgroup figures, where a cgroup was used.
    pub cgroup: Option<CgroupStats>,
    /// The kernel OOM-killed it.
    pub oom_killed: bool,
}

/// Exit status in words: `exited with code 1`, `killed by signal 9 (SIGKILL)`,
/// `killed by the kernel OOM killer at its memory limit of 512 MiB`.
pub fn describe_status(exit: &ChildExit) -> String {
    if exit.oom_killed || exit.code.is_some() {
        return exit.describe();
    }
    match exit.signal {
        Some(signal) => {
            let name = match signal {
                libc::SIGKILL => "SIGKILL",
                libc::SIGTERM => "SIGTERM",
                libc::SIGSEGV => "SIGSEGV",
                libc::SIGABRT => "SIGABRT",
                libc::SIGINT => "SIGINT",
                libc::SIGBUS => "SIGBUS",
                _ => "signal",
            };
            format!("killed by signal {signal} ({name})")
        }
        None => exit.describe(),
    }
}

impl RunningService {
    /// Starts the service.
    pub fn spawn(spec: &ServiceCommand) -> Result<RunningService, ServiceError> {
        let mut cmd = Command::new(&spec.program);
        cmd.args(&spec.args)
            .envs(&spec.env)
            .current_dir(&spec.cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let spawn_error = |reason: String| ServiceError::Spawn {
            program: spec.program.clone(),
            reason,
        };
        if !spec.cwd.is_dir() {
            return Err(ServiceError::Spawn {
                program: spec.program.clone(),
                reason: format!(
                    "its working directory {} is not a directory\n  help: fix service.cwd in the scenario",
                    spec.cwd.display()
                ),
            });
        }
        let stdio = || ChildStdio {
            stdin: Stdio::null(),
            stdout: Stdio::piped(),
            stderr: Stdio::piped(),
        };
        let mut child = match spec.memory_limit {
            Some((limit, mode)) => memwatch::spawn_limited_with_stdio(cmd, limit, mode, stdio()),
            // No limit asked for: still a cgroup where one can be had, so that a process the
            // service detaches (setsid, double fork) is found and killed at teardown.
            None if memwatch::cgroup_available() => memwatch::spawn_limited_with_stdio(
                cmd,
                TRACKING_ONLY_LIMIT,
                LimitMode::Cgroup,
                stdio(),
            ),
            None => memwatch::spawn_unconfined(cmd),
        }
        .map_err(|e| match e {
            memwatch::MemwatchError::LimitUnavailable { .. } => ServiceError::Confine {
                program: spec.program.clone(),
                reason: e.to_string(),
            },
            e => spawn_error(e.to_string()),
        })?;
        let pid = child.pid;
        interrupt::register_process_group(pid as i32);
        let log = File::create(&spec.log_path)
            .ok()
            .map(|f| Arc::new(Mutex::new((f, 0u64))));
        let output = OutputTail::default();
        let streams: Vec<Box<dyn Read + Send>> = [
            child
                .child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        .collect();
        for stream in streams {
            read_lines(stream, output.clone(), log.clone());
        }
        let confinement = child.confinement.clone();
        let child = Arc::new(Mutex::new(child));
        let exit: Arc<OnceLock<ChildExit>> = Arc::default();
        let poller = tokio::spawn(poll_exit(child.clone(), exit.clone()));
        Ok(RunningService {
            pid,
            confinement,
            child,
            exit,
            poller,
            output,
            log_path: spec.log_path.clone(),
            torn_down: false,
        })
    }

    /// The service's pid (also its process group id).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// How the memory limit is enforced.
    pub fn confinement(&self) -> &Confinement {
        &self.confinement
    }

    /// How it ended, if it has.
    pub fn exited(&self) -> Option<&ChildExit> {
        self.exit.get()
    }

    /// A handle that tells, from another task, whether it has ended.
    pub fn exit_handle(&self) -> Arc<OnceLock<ChildExit>> {
        self.exit.clone()
    }

    /// The last lines it wrote.
    pub fn last_output(&self) -> Vec<String> {
        self.output.lines()
    }

    /// Where its whole output goes.
    pub fn log_path(&self) -> &PathBuf {
        &self.log_path
    }

    /// Polls `url` until it answers 2xx; fails fast if the process exits.
    pub async fn wait_ready(
        &self,
        url: &str,
        timeout: Duration,
        interrupt: &Interrupt,
    ) -> Result<Duration, ServiceError> {
        let started = Instant::now();
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| ServiceError::Spawn {
                program: url.into(),
                reason: e.to_string(),
            })?;
        loop {
            if interrupt.is_set() {
                return Err(ServiceError::Interrupted);
            }
            if let Some(exit) = self.exited() {
                // Let the reader threads catch its last words.
                tokio::time::sleep(Duration::from_millis(100)).await;
                return Err(ServiceError::ExitedBeforeReady {
                    status: describe_status(exit),
                    tail: self.output.indented(),
                    log: self.log_path.display().to_string(),
                });
            }
            let last = match client.get(url).send().await {
                Ok(r) if r.status().is_success() => return Ok(started.elapsed()),
                Ok(r) => format!("HTTP {}", r.status()),
                Err(e) if e.is_connect() => "connection refused".to_string(),
                Err(e) => e.to_string(),
            };
            if started.elapsed() >= timeout {
                return Err(ServiceError::NotReady {
                    url: url.into(),
                    timeout_ms: timeout.as_millis() as u64,
                    last,
                    tail: self.output.indented(),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Current cgroup figures, where a cgroup is used.
    pub fn cgroup_stats(&self) -> Option<CgroupStats> {
        self.child.lock().ok().and_then(|c| c.cgroup_stats())
    }

    /// Stops the service: SIGTERM to its process group, SIGKILL after `grace`, then
    /// reaps it and removes its cgroup.
    pub async fn shutdown(mut self, grace: Duration) -> Teardown {
        let died_during_run = self.exited().is_some();
        if !died_during_run {
            signal_group(self.pid, libc::SIGTERM);
            let deadline = Instant::now() + grace;
            while self.exited().is_none() && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        self.poller.abort();
        let child = self.child.clone();
        // Kill what is left (children of the service too), reap, remove the cgroup.
        let exit = tokio::task::spawn_blocking(move || {
            let mut child = child
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            child.kill_tree();
            let exit = child.wait().ok();
            if let Err(e) = child.cleanup() {
                tracing::warn!("cleanup of the service's cgroup: {e}");
            }
            exit
        })
        .await
        .ok()
        .flatten();
        let exit = self.exit.get().cloned().or(exit);
        interrupt::unregister_process_group(self.pid as i32);
        self.torn_down = true;
        Teardown {
            died_during_run,
            status: exit
                .as_ref()
                .map(describe_status)
                .unwrap_or_else(|| "did not exit".into()),
            cgroup: exit.as_ref().and_then(|e| e.cgroup),
            oom_killed: exit.as_ref().is_some_and(|e| e.oom_killed),
        }
    }
}

impl Drop for RunningService {
    fn drop(&mut self) {
        if !self.torn_down {
            // A panic or an early return: never leave the service behind.
            self.poller.abort();
            signal_group(self.pid, libc::SIGKILL);
            if let Ok(mut child) = self.child.lock() {
                child.kill_tree();
                let _ = child.cleanup();
            }
            interrupt::unregister_process_group(self.pid as i32);
        }
    }
}

async fn poll_exit(child: Arc<Mutex<LimitedChild>>, exit: Arc<OnceLock<ChildExit>>) {
    loop {
        let ended = child
            .lock()
            .ok()
            .and_then(|mut c| c.try_wait().ok().flatten());
        if let Some(ended) = ended {
            let _ = exit.set(ended);
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn signal_group(pgid: u32, signal: i32) {
    // SAFETY: kill(2) on a negative pid signals a process group; no memory is touched.
    unsafe {
        libc::kill(-(pgid as i32), signal);
    }
}

/// A thread that copies one output stream into the log file (up to [`LOG_CAP_BYTES`]
/// for both streams together) and the tail.
fn read_lines(
    stream: Box<dyn Read + Send>,
    output: OutputTail,
    log: Option<Arc<Mutex<(File, u64)>>>,
) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if let Some(log) = &log
                && let Ok(mut guard) = log.lock()
            {
                let (file, written) = &mut *guard;
                if *written < LOG_CAP_BYTES {
                    let _ = writeln!(file, "{line}");
                    *written += line.len() as u64 + 1;
                    if *written >= LOG_CAP_BYTES {
                        let _ = writeln!(
                            file,
                            "[oomguard: service.log capped at {LOG_CAP_BYTES} bytes; later output is not kept]"
                        );
                    }
                }
            }
            output.push(line);
        }
    });
}
