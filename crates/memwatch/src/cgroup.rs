//! Memory cgroups (v1 and v2): find the hierarchy, create a limited group, read its figures,
//! remove it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::MemwatchError;

/// Which cgroup interface the memory controller is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CgroupVersion {
    /// Legacy per-controller hierarchy (`memory.limit_in_bytes`, `memory.oom_control`).
    V1,
    /// Unified hierarchy (`memory.max`, `memory.peak`, `memory.events`).
    V2,
}

/// What the kernel says about a memory cgroup.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CgroupStats {
    /// The group's limit (`memory.max` / `memory.limit_in_bytes`), `None` if unlimited.
    pub limit_bytes: Option<u64>,
    /// The group's peak usage (`memory.peak` / `memory.max_usage_in_bytes`); `None` on
    /// kernels before 5.19 (v2).
    pub peak_bytes: Option<u64>,
    /// Current usage (`memory.current` / `memory.usage_in_bytes`).
    pub usage_bytes: u64,
    /// Processes the kernel OOM-killed in the group (`oom_kill` of `memory.events` /
    /// `memory.oom_control`).
    pub oom_kills: u64,
    /// Times the limit was hit (`max` of `memory.events` / `memory.failcnt`).
    pub limit_hits: u64,
}

/// Finds the memory controller's hierarchy: v2 if the unified hierarchy offers `memory`, else v1.
pub(crate) fn find_memory_hierarchy() -> Result<(CgroupVersion, PathBuf), String> {
    let mounts = fs::read_to_string("/proc/self/mounts")
        .map_err(|e| format!("cannot read /proc/self/mounts: {e}"))?;
    let mut v1 = None;
    for line in mounts.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [_, mount, fstype, options, ..] = fields[..] else {
            continue;
        };
        match fstype {
            "cgroup2" => {
                let controllers = fs::read_to_string(Path::new(mount).join("cgroup.controllers"))
                    .unwrap_or_default();
                if controllers.split_whitespace().any(|c| c == "memory") {
                    return Ok((CgroupVersion::V2, PathBuf::from(mount)));
                }
            }
            "cgroup" if options.split(',').any(|o| o == "memory") => {
                v1 = Some((CgroupVersion::V1, PathBuf::from(mount)));
            }
            _ => {}
        }
    }
    v1.ok_or_else(|| "no cgroup hierarchy with the memory controller is mounted".to_owned())
}

/// The memory cgroup of a running process (e.g. a systemd scope), from `/proc/PID/cgroup`.
pub(crate) fn cgroup_of(pid: u32) -> Option<(CgroupVersion, PathBuf)> {
    let (version, mount) = find_memory_hierarchy().ok()?;
    let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    text.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let matches = match version {
            CgroupVersion::V2 => controllers.is_empty(),
            CgroupVersion::V1 => controllers.split(',').any(|c| c == "memory"),
        };
        matches.then(|| (version, mount.join(path.trim_start_matches('/'))))
    })
}

fn read_u64(path: &Path) -> Option<u64> {
    let text = fs::read_to_string(path).ok()?;
    let text = text.trim();
    if text == "max" {
        return None;
    }
    text.parse().ok()
}

fn keyed_value(path: &Path, key: &str) -> u64 {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(' ')?;
            (k == key).then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0)
}

/// A memory cgroup: either created by us (removed by [`MemoryCgroup::remove`]) or borrowed.
#[derive(Debug)]
pub(crate) struct MemoryCgroup {
    pub version: CgroupVersion,
    pub path: PathBuf,
    owned: bool,
}

impl MemoryCgroup {
    /// A group someone else manages (we only read it).
    pub fn borrowed(version: CgroupVersion, path: PathBuf) -> Self {
        Self {
            version,
            path,
            owned: false,
        }
    }

    /// Creates `oomguard-<pid>-<n>` at the top of the memory hierarchy with `limit_bytes`
    /// and no swap. The error is a sentence saying why it cannot be had.
    pub fn create(limit_bytes: u64) -> Result<Self, String> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let (version, mount) = find_memory_hierarchy()?;
        let name = format!(
            "oomguard-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let path = mount.join(name);
        fs::create_dir(&path).map_err(|e| {
            format!(
                "cannot create {} ({e}); a memory cgroup needs root or a delegated cgroup subtree",
                path.display()
            )
        })?;
        let group = Self {
            version,
            path,
            owned: true,
        };
        group.apply_limit(limit_bytes).inspect_err(|_| {
            let _ = fs::remove_dir(&group.path);
        })?;
        Ok(group)
    }

    fn apply_limit(&self, limit_bytes: u64) -> Result<(), String> {
        let limit = limit_bytes.to_string();
        let write = |file: &str, value: &str| {
            fs::write(self.path.join(file), value).map_err(|e| {
                format!(
                    "cannot write {value} to {}: {e}",
                    self.path.join(file).display()
                )
            })
        };
        match self.version {
            CgroupVersion::V2 => {
                if !self.path.join("memory.max").exists() {
                    return Err(format!(
                        "the memory controller is not enabled for {} (see cgroup.subtree_control of its parent)",
                        self.path.display()
                    ));
                }
                write("memory.max", &limit)?;
                if self.path.join("memory.swap.max").exists() {
                    write("memory.swap.max", "0")?;
                }
            }
            CgroupVersion::V1 => {
                write("memory.limit_in_bytes", &limit)?;
                // memsw (memory + swap) exists only with swap accounting; it must be >= the limit.
                if self.path.join("memory.memsw.limit_in_bytes").exists() {
                    write("memory.memsw.limit_in_bytes", &limit)?;
                }
            }
        }
        Ok(())
    }

    /// Path of the file a pid is written to, to move it into the group.
    pub fn procs_path(&self) -> PathBuf {
        self.path.join("cgroup.procs")
    }

    /// Reads the group's figures; `None` when the group is gone.
    pub fn stats(&self) -> Option<CgroupStats> {
        let p = |f: &str| self.path.join(f);
        match self.version {
            CgroupVersion::V2 => Some(CgroupStats {
                limit_bytes: read_u64(&p("memory.max")),
                peak_bytes: read_u64(&p("memory.peak")),
                usage_bytes: read_u64(&p("memory.current"))?,
                oom_kills: keyed_value(&p("memory.events"), "oom_kill"),
                limit_hits: keyed_value(&p("memory.events"), "max"),
            }),
            CgroupVersion::V1 => Some(CgroupStats {
                // v1 reports "unlimited" as a huge page-aligned number.
                limit_bytes: read_u64(&p("memory.limit_in_bytes")).filter(|&l| l < (1 << 62)),
                peak_bytes: read_u64(&p("memory.max_usage_in_bytes")),
                usage_bytes: read_u64(&p("memory.usage_in_bytes"))?,
                oom_kills: keyed_value(&p("memory.oom_control"), "oom_kill"),
                limit_hits: read_u64(&p("memory.failcnt")).unwrap_or(0),
            }),
        }
    }

    /// Pids in the group.
    pub fn pids(&self) -> Vec<u32> {
        fs::read_to_string(self.procs_path())
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    }

    /// SIGKILLs every process in the group.
    pub fn kill_all(&self) {
        for pid in self.pids() {
            // SAFETY: plain syscall; the pid is a member of our group.
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGKILL);
            }
        }
    }

    /// Waits (bounded) until the group has no tasks, killing stragglers, then removes it.
    /// Does nothing for a borrowed group.
    pub fn remove(&mut self) -> Result<(), MemwatchError> {
        if !self.owned || !self.path.exists() {
            return Ok(());
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        let kill_after = Instant::now() + Duration::from_secs(1);
        loop {
            if self.pids().is_empty() {
                match fs::remove_dir(&self.path) {
                    Ok(()) => {
                        self.owned = false;
                        return Ok(());
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
                    Err(e) if Instant::now() >= deadline => {
                        return Err(MemwatchError::io("cannot remove cgroup", &self.path, e));
                    }
                    Err(_) => {}
                }
            } else if Instant::now() >= kill_after {
                self.kill_all();
            }
            if Instant::now() >= deadline {
                return Err(MemwatchError::io(
                    "cannot remove cgroup (processes remain in it)",
                    &self.path,
                    io::Error::from_raw_os_error(libc::EBUSY),
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Removes the `oomguard-<pid>-<n>` groups left by runs whose process is gone (killed with
/// SIGKILL, or stopped by a second Ctrl-C before it could clean up): SIGKILLs whatever
/// still runs in them and removes them. Returns the groups removed.
pub fn sweep_stale_cgroups() -> Vec<PathBuf> {
    sweep(|owner| owner != std::process::id() && !Path::new(&format!("/proc/{owner}")).exists())
}

/// Kills the processes in, and removes, the memory cgroups this process created: for an
/// abrupt exit that cannot wait for the usual teardown (a second Ctrl-C). Returns the
/// groups removed.
pub fn remove_own_cgroups() -> Vec<PathBuf> {
    sweep(|owner| owner == std::process::id())
}

/// Kills and removes every `oomguard-<owner>-*` group whose owner pid `matches`.
fn sweep(matches: impl Fn(u32) -> bool) -> Vec<PathBuf> {
    let Ok((version, mount)) = find_memory_hierarchy() else {
        return Vec::new();
    };
    let Ok(entries) = fs::read_dir(&mount) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(owner) = name
            .strip_prefix("oomguard-")
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !matches(owner) {
            continue;
        }
        let mut group = MemoryCgroup {
            version,
            path: entry.path(),
            owned: true,
        };
        group.kill_all();
        if group.remove().is_ok() {
            removed.push(entry.path());
        }
    }
    removed
}

/// Whether a memory cgroup can be created here (root or a delegated hierarchy), checked by
/// creating and removing one.
pub fn cgroup_available() -> bool {
    match MemoryCgroup::create(1 << 62) {
        Ok(mut group) => group.remove().is_ok(),
        Err(_) => false,
    }
}
