//! Running a command under a memory limit, so a breach is a real kernel OOM kill.
//!
//! Every child is put in its own process group, gets `PR_SET_PDEATHSIG=SIGKILL` (so it never
//! outlives the harness) and, in cgroup mode, is moved into its group between fork and exec
//! (the pre-exec hook only calls the async-signal-safe `write(2)`). Children are forked from
//! one long-lived internal thread, because the parent-death signal fires when the *thread*
//! that forked exits, not the process.

use std::fs::OpenOptions;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::cgroup::{self, MemoryCgroup};
pub use crate::cgroup::{CgroupStats, CgroupVersion};
use crate::error::MemwatchError;

/// How to enforce the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LimitMode {
    /// Cgroup if possible, else a systemd scope, else the watchdog (with the reason).
    #[default]
    Auto,
    /// A cgroup created by memwatch (needs root or delegation); fails otherwise.
    Cgroup,
    /// `systemd-run --scope` (works for non-root users with a systemd user manager).
    Systemd,
    /// No kernel limit: the sampler's watchdog kills the tree (a simulated OOM kill).
    Watchdog,
}

/// How the child is actually confined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Confinement {
    /// A memory cgroup created (and removed) by memwatch: a breach is a real kernel OOM kill.
    Cgroup {
        /// v1 or v2.
        version: CgroupVersion,
        /// The group's directory.
        path: PathBuf,
    },
    /// A transient systemd scope with `MemoryMax`: a breach is a real kernel OOM kill.
    SystemdScope {
        /// The scope's unit name.
        unit: String,
        /// Its cgroup directory.
        path: PathBuf,
    },
    /// No kernel limit could be had; the sampler's watchdog must kill the tree when it crosses
    /// the limit. Any such kill is simulated and labelled so.
    Watchdog {
        /// Why no kernel limit is used.
        reason: String,
    },
    /// Not confined at all.
    None,
}

impl Confinement {
    /// True when a limit breach would be a simulated kill rather than the kernel's.
    pub fn is_simulated(&self) -> bool {
        matches!(self, Confinement::Watchdog { .. })
    }
}

/// Where the child's standard streams go (applied to whatever command is actually spawned,
/// including the `systemd-run` wrapper, whose stdio cannot be copied from a `Command`).
#[derive(Debug)]
pub struct ChildStdio {
    /// Standard input.
    pub stdin: Stdio,
    /// Standard output.
    pub stdout: Stdio,
    /// Standard error.
    pub stderr: Stdio,
}

/// How a confined child ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChildExit {
    /// Exit code, if it exited normally.
    pub code: Option<i32>,
    /// Signal that killed it, if any.
    pub signal: Option<i32>,
    /// The kernel OOM-killed it: its group's `oom_kill` counter rose and it died by SIGKILL.
    pub oom_killed: bool,
    /// The group's figures at exit (cgroup and systemd modes).
    pub cgroup: Option<CgroupStats>,
}

impl ChildExit {
    /// A sentence for humans, e.g. "killed by the kernel OOM killer (memory limit 128 MiB)".
    pub fn describe(&self) -> String {
        if self.oom_killed {
            let limit = self
                .cgroup
                .and_then(|c| c.limit_bytes)
                .map(|l| format!(" at its memory limit of {}", crate::ByteSize(l)))
                .unwrap_or_default();
            return format!("killed by the kernel OOM killer{limit}");
        }
        match (self.code, self.signal) {
            (Some(code), _) => format!("exited with code {code}"),
            (None, Some(sig)) => format!("killed by signal {sig}"),
            _ => "ended".to_owned(),
        }
    }
}

/// A child running under a memory limit. Dropping it kills what is left of its tree and
/// removes its cgroup.
#[derive(Debug)]
pub struct LimitedChild {
    /// The spawned process. Prefer [`LimitedChild::wait`] over `child.wait()`: it also reads
    /// the group's figures and kills stragglers of the process group before reaping.
    pub child: Child,
    /// Its pid (also its process group id).
    pub pid: u32,
    /// How it is confined.
    pub confinement: Confinement,
    /// The limit asked for.
    pub limit_bytes: u64,
    cgroup: Option<MemoryCgroup>,
    last_stats: Option<CgroupStats>,
    exit: Option<ChildExit>,
    cleaned: bool,
}

type SpawnJob = (Command, Sender<io::Result<Child>>);

/// Spawns on a thread that lives as long as the process (see the module docs).
fn spawn_on_keeper_thread(cmd: Command) -> io::Result<Child> {
    static KEEPER: OnceLock<Option<Mutex<Sender<SpawnJob>>>> = OnceLock::new();
    let keeper = KEEPER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnJob>();
        std::thread::Builder::new()
            .name("memwatch-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .ok()
            .map(|_| Mutex::new(tx))
    });
    let mut cmd = cmd;
    let Some(keeper) = keeper else {
        return cmd.spawn();
    };
    let (reply_tx, reply_rx) = mpsc::channel();
    let sent = keeper
        .lock()
        .map_err(|_| io::Error::other("spawner lock poisoned"))?
        .send((cmd, reply_tx));
    if sent.is_err() {
        return Err(io::Error::other("the memwatch spawner thread is gone"));
    }
    reply_rx
        .recv()
        .map_err(|_| io::Error::other("the memwatch spawner thread is gone"))?
}

/// Process group, parent-death signal and (optionally) cgroup entry, all before exec.
fn prepare(cmd: &mut Command, cgroup_procs_fd: Option<i32>) {
    // SAFETY: getpid is always safe.
    let parent = unsafe { libc::getpid() };
    cmd.process_group(0);
    // SAFETY: the hook only makes async-signal-safe syscalls (prctl, getppid, write) and
    // allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before the death signal was armed.
            if libc::getppid() != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            if let Some(fd) = cgroup_procs_fd
                && libc::write(fd, b"0".as_ptr().cast(), 1) != 1
            {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

fn program_name(cmd: &Command) -> String {
    cmd.get_program().to_string_lossy().into_owned()
}

fn apply_stdio(cmd: &mut Command, stdio: Option<ChildStdio>) {
    if let Some(s) = stdio {
        cmd.stdin(s.stdin).stdout(s.stdout).stderr(s.stderr);
    }
}

/// Runs `cmd` under `limit_bytes` of memory (no swap), confined as `mode` allows.
///
/// In systemd mode `cmd` is wrapped in `systemd-run` (program, args, env and cwd are copied);
/// a `Command`'s stdio cannot be read back, so the wrapper inherits the caller's stdio. Use
/// [`spawn_limited_with_stdio`] to set stdio in every mode.
pub fn spawn_limited(
    cmd: Command,
    limit_bytes: u64,
    mode: LimitMode,
) -> Result<LimitedChild, MemwatchError> {
    spawn_limited_inner(cmd, limit_bytes, mode, None)
}

/// Like [`spawn_limited`], with the child's stdio given explicitly (honoured in every mode).
pub fn spawn_limited_with_stdio(
    cmd: Command,
    limit_bytes: u64,
    mode: LimitMode,
    stdio: ChildStdio,
) -> Result<LimitedChild, MemwatchError> {
    spawn_limited_inner(cmd, limit_bytes, mode, Some(stdio))
}

fn spawn_limited_inner(
    cmd: Command,
    limit_bytes: u64,
    mode: LimitMode,
    stdio: Option<ChildStdio>,
) -> Result<LimitedChild, MemwatchError> {
    if limit_bytes == 0 {
        return Err(MemwatchError::InvalidConfig(
            "memory limit of 0 bytes".into(),
        ));
    }
    let cgroup_reason = match mode {
        LimitMode::Auto | LimitMode::Cgroup => match MemoryCgroup::create(limit_bytes) {
            Ok(group) => return spawn_in_cgroup(cmd, limit_bytes, group, stdio),
            Err(reason) if mode == LimitMode::Cgroup => {
                return Err(MemwatchError::LimitUnavailable {
                    mode: "a cgroup",
                    reason,
                });
            }
            Err(reason) => Some(reason),
        },
        _ => None,
    };
    let systemd_reason = match mode {
        LimitMode::Auto | LimitMode::Systemd => match probe_systemd_scope(limit_bytes) {
            Ok(()) => {
                let (mut scope_cmd, unit) = systemd_scope_command(&cmd, limit_bytes);
                apply_stdio(&mut scope_cmd, stdio);
                return start_scope(scope_cmd, unit, limit_bytes).map_err(|reason| {
                    MemwatchError::LimitUnavailable {
                        mode: "a systemd scope",
                        reason,
                    }
                });
            }
            Err(reason) if mode == LimitMode::Systemd => {
                return Err(MemwatchError::LimitUnavailable {
                    mode: "a systemd scope",
                    reason,
                });
            }
            Err(reason) => Some(reason),
        },
        _ => None,
    };
    let reason = if mode == LimitMode::Watchdog {
        "the watchdog was asked for (LimitMode::Watchdog); any kill at the limit is SIMULATED"
            .to_owned()
    } else {
        watchdog_reason(cgroup_reason, systemd_reason)
    };
    spawn_watchdog(cmd, limit_bytes, stdio, reason)
}

fn watchdog_reason(cgroup: Option<String>, systemd: Option<String>) -> String {
    let mut parts = Vec::new();
    if let Some(c) = cgroup {
        parts.push(format!("no cgroup: {c}"));
    }
    if let Some(s) = systemd {
        parts.push(format!("no systemd scope: {s}"));
    }
    format!(
        "{}; using the watchdog, so any kill at the limit is SIMULATED (run as root, or with a systemd user manager, for a real OOM kill)",
        parts.join("; ")
    )
}

fn spawn_watchdog(
    mut cmd: Command,
    limit_bytes: u64,
    stdio: Option<ChildStdio>,
    reason: String,
) -> Result<LimitedChild, MemwatchError> {
    tracing::warn!(%reason, "memory limit enforced by the watchdog (simulated OOM kill)");
    apply_stdio(&mut cmd, stdio);
    prepare(&mut cmd, None);
    let program = program_name(&cmd);
    let child =
        spawn_on_keeper_thread(cmd).map_err(|source| MemwatchError::Spawn { program, source })?;
    Ok(LimitedChild::new(
        child,
        Confinement::Watchdog { reason },
        limit_bytes,
        None,
    ))
}

/// Runs `cmd` with no limit, with the same process-group and parent-death discipline.
pub fn spawn_unconfined(mut cmd: Command) -> Result<LimitedChild, MemwatchError> {
    prepare(&mut cmd, None);
    let program = program_name(&cmd);
    let child =
        spawn_on_keeper_thread(cmd).map_err(|source| MemwatchError::Spawn { program, source })?;
    Ok(LimitedChild::new(child, Confinement::None, 0, None))
}

fn spawn_in_cgroup(
    mut cmd: Command,
    limit_bytes: u64,
    mut group: MemoryCgroup,
    stdio: Option<ChildStdio>,
) -> Result<LimitedChild, MemwatchError> {
    let procs_path = group.procs_path();
    let procs = match OpenOptions::new().write(true).open(&procs_path) {
        Ok(f) => f,
        Err(e) => {
            let _ = group.remove();
            return Err(MemwatchError::io("cannot open", procs_path, e));
        }
    };
    apply_stdio(&mut cmd, stdio);
    prepare(&mut cmd, Some(procs.as_raw_fd()));
    let program = program_name(&cmd);
    let spawned = spawn_on_keeper_thread(cmd);
    drop(procs);
    let child = match spawned {
        Ok(child) => child,
        Err(source) => {
            let _ = group.remove();
            return Err(MemwatchError::Spawn { program, source });
        }
    };
    let confinement = Confinement::Cgroup {
        version: group.version,
        path: group.path.clone(),
    };
    Ok(LimitedChild::new(
        child,
        confinement,
        limit_bytes,
        Some(group),
    ))
}

fn systemd_run() -> Command {
    let mut scope = Command::new("systemd-run");
    // SAFETY: geteuid is always safe.
    if unsafe { libc::geteuid() } != 0 {
        scope.arg("--user");
    }
    scope
}

/// Checks that a memory-limited scope can be had, by running `true` in one.
fn probe_systemd_scope(limit_bytes: u64) -> Result<(), String> {
    if !std::path::Path::new("/run/systemd/system").exists() {
        return Err("systemd is not the init system here (/run/systemd/system is missing)".into());
    }
    let mut probe = systemd_run();
    probe
        .args(["--scope", "--quiet", "--collect"])
        .arg(format!("--property=MemoryMax={limit_bytes}"))
        .args(["--property=MemorySwapMax=0", "--", "true"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = probe
        .spawn()
        .map_err(|e| format!("cannot run systemd-run: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = io::Read::read_to_string(&mut e, &mut err);
                }
                return Err(format!("systemd-run failed ({status}): {}", err.trim()));
            }
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("systemd-run did not finish within 10 s".into());
            }
        }
    }
}

/// Builds the `systemd-run --scope` command wrapping `cmd` (program, args, env, cwd).
fn systemd_scope_command(cmd: &Command, limit_bytes: u64) -> (Command, String) {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let unit = format!(
        "oomguard-{}-{}.scope",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    );
    let mut scope = systemd_run();
    scope
        .args(["--scope", "--quiet", "--collect"])
        .arg(format!("--unit={unit}"))
        .arg(format!("--property=MemoryMax={limit_bytes}"))
        .arg("--property=MemorySwapMax=0")
        .arg("--")
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (key, value) in cmd.get_envs() {
        match value {
            Some(v) => scope.env(key, v),
            None => scope.env_remove(key),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        scope.current_dir(dir);
    }
    (scope, unit)
}

fn start_scope(mut scope: Command, unit: String, limit_bytes: u64) -> Result<LimitedChild, String> {
    prepare(&mut scope, None);
    let mut child =
        spawn_on_keeper_thread(scope).map_err(|e| format!("cannot run systemd-run: {e}"))?;
    let pid = child.id();
    // systemd-run moves itself into the scope, then execs the command: wait for the move.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some((version, path)) = cgroup::cgroup_of(pid)
            && path.ends_with(&unit)
        {
            let confinement = Confinement::SystemdScope {
                unit: unit.clone(),
                path: path.clone(),
            };
            let group = MemoryCgroup::borrowed(version, path);
            return Ok(LimitedChild::new(
                child,
                confinement,
                limit_bytes,
                Some(group),
            ));
        }
        match child.try_wait() {
            Ok(Some(status)) => {
                return Err(format!("systemd-run could not start the scope ({status})"));
            }
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "systemd-run did not move pid {pid} into {unit} within 10 s"
                ));
            }
        }
    }
}

impl LimitedChild {
    fn new(
        child: Child,
        confinement: Confinement,
        limit_bytes: u64,
        cgroup: Option<MemoryCgroup>,
    ) -> Self {
        Self {
            pid: child.id(),
            child,
            confinement,
            limit_bytes,
            cgroup,
            last_stats: None,
            exit: None,
            cleaned: false,
        }
    }

    /// The limit the sampler's watchdog must enforce: `Some` only in watchdog confinement.
    pub fn watchdog_limit_bytes(&self) -> Option<u64> {
        self.confinement.is_simulated().then_some(self.limit_bytes)
    }

    /// The group's current figures (cgroup and systemd modes); after exit, the figures at exit.
    pub fn cgroup_stats(&self) -> Option<CgroupStats> {
        self.cgroup
            .as_ref()
            .and_then(MemoryCgroup::stats)
            .or(self.last_stats)
            .or_else(|| self.exit.as_ref().and_then(|e| e.cgroup))
    }

    /// Whether the child has exited, without reaping it (`waitid` with `WNOWAIT`).
    fn exited_unreaped(&self) -> io::Result<bool> {
        // SAFETY: waitid on our own child's pid into a zeroed siginfo we own.
        unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let rc = libc::waitid(
                libc::P_PID,
                self.pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT | libc::WNOHANG,
            );
            if rc != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(info.si_pid() != 0)
        }
    }

    /// Checks whether the child ended; if so, see [`LimitedChild::wait`].
    pub fn try_wait(&mut self) -> Result<Option<ChildExit>, MemwatchError> {
        if let Some(exit) = &self.exit {
            return Ok(Some(exit.clone()));
        }
        self.last_stats = self
            .cgroup
            .as_ref()
            .and_then(MemoryCgroup::stats)
            .or(self.last_stats);
        match self.exited_unreaped() {
            Ok(false) => Ok(None),
            Ok(true) => self.reap().map(Some),
            Err(e) => Err(MemwatchError::io(
                "cannot wait for",
                format!("pid {}", self.pid),
                e,
            )),
        }
    }

    /// Waits for the child to end, reads its group's figures, kills what is left of its
    /// process group, and reaps it. Polls every 10 ms (so a systemd scope's figures are read
    /// before systemd removes it).
    pub fn wait(&mut self) -> Result<ChildExit, MemwatchError> {
        loop {
            if let Some(exit) = self.try_wait()? {
                return Ok(exit);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn reap(&mut self) -> Result<ChildExit, MemwatchError> {
        let stats = self
            .cgroup
            .as_ref()
            .and_then(MemoryCgroup::stats)
            .or(self.last_stats);
        // The zombie leader still pins the process group id: safe to signal the group.
        // SAFETY: plain syscall.
        unsafe {
            libc::killpg(self.pid as libc::pid_t, libc::SIGKILL);
        }
        let status = self
            .child
            .wait()
            .map_err(|e| MemwatchError::io("cannot reap", format!("pid {}", self.pid), e))?;
        let signal = status.signal();
        let exit = ChildExit {
            code: status.code(),
            signal,
            oom_killed: signal == Some(libc::SIGKILL) && stats.is_some_and(|s| s.oom_kills > 0),
            cgroup: stats,
        };
        self.exit = Some(exit.clone());
        Ok(exit)
    }

    /// SIGKILLs the child's process group and every process of its cgroup.
    pub fn kill_tree(&mut self) {
        if self.exit.is_none() {
            // SAFETY: plain syscall; the unreaped child pins its process group id.
            unsafe {
                libc::killpg(self.pid as libc::pid_t, libc::SIGKILL);
            }
        }
        if let Some(group) = &self.cgroup {
            group.kill_all();
        }
    }

    /// Kills whatever is left, reaps the child, waits until its cgroup is empty and removes
    /// it. Idempotent; also run on drop.
    pub fn cleanup(&mut self) -> Result<(), MemwatchError> {
        if self.cleaned {
            return Ok(());
        }
        if self.exit.is_none() {
            self.kill_tree();
            self.wait()?;
        }
        if let Some(group) = self.cgroup.as_mut() {
            group.remove()?;
        }
        self.cleaned = true;
        Ok(())
    }
}

impl Drop for LimitedChild {
    fn drop(&mut self) {
        if let Err(e) = self.cleanup() {
            tracing::error!(error = %e, pid = self.pid, "cleanup of a confined child failed");
        }
    }
}
