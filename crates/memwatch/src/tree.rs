//! The watched process tree: discovery through sysinfo's process table, per-sample reads
//! through `/proc` of the known pids only.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, System, ThreadKind};

use crate::procfs::{self, StatusFile};
use crate::sample::{ProcessPeak, Sample};

struct Tracked {
    status: StatusFile,
    fds: u64,
    sockets: u64,
}

/// What one sample of the tree found.
pub(crate) struct Reading {
    pub sample: Sample,
    /// Whether the root process is gone (exited, zombie or reaped).
    pub root_gone: bool,
    /// Highest `VmHWM` of any live process in this reading.
    pub max_hwm_bytes: u64,
}

pub(crate) struct Tree {
    root: u32,
    system: System,
    tracked: HashMap<u32, Tracked>,
    peaks: BTreeMap<u32, ProcessPeak>,
    next_socket_scan: Instant,
    socket_scan_interval: Duration,
}

impl Tree {
    pub fn new(root: u32, socket_scan_interval: Duration) -> Self {
        Self {
            root,
            system: System::new(),
            tracked: HashMap::new(),
            peaks: BTreeMap::new(),
            next_socket_scan: Instant::now(),
            socket_scan_interval,
        }
    }

    /// Refreshes the process table and starts tracking new descendants of the root (or of
    /// any process already tracked, so a re-parented grandchild is not lost).
    pub fn discover(&mut self) {
        self.system.refresh_processes_specifics(
            ProcessesToUpdate::All,
            true,
            ProcessRefreshKind::nothing().without_tasks(),
        );
        let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
        for (pid, process) in self.system.processes() {
            if process.thread_kind() == Some(ThreadKind::Userland) {
                continue;
            }
            if let Some(parent) = process.parent() {
                children
                    .entry(parent.as_u32())
                    .or_default()
                    .push(pid.as_u32());
            }
        }
        let mut queue: Vec<u32> = vec![self.root];
        queue.extend(self.tracked.keys().copied());
        let mut seen = std::collections::HashSet::new();
        while let Some(pid) = queue.pop() {
            if !seen.insert(pid) {
                continue;
            }
            if !self.tracked.contains_key(&pid) {
                self.track(pid);
            }
            if let Some(kids) = children.get(&pid) {
                queue.extend(kids.iter().copied());
            }
        }
    }

    fn track(&mut self, pid: u32) {
        // A process that exited since the table was read is simply not tracked.
        let Ok(mut status) = StatusFile::open(pid) else {
            return;
        };
        match status.read() {
            Ok(s) if !s.zombie => {
                self.peaks.entry(pid).or_insert_with(|| ProcessPeak {
                    pid,
                    name: s.name.clone(),
                    rss_peak_bytes: 0,
                    hwm_bytes: 0,
                    swap_peak_bytes: 0,
                });
                self.tracked.insert(
                    pid,
                    Tracked {
                        status,
                        fds: 0,
                        sockets: 0,
                    },
                );
            }
            _ => {}
        }
    }

    /// Reads every tracked process once. Processes that exited are dropped silently.
    pub fn read(&mut self, elapsed: Duration) -> Reading {
        let now = Instant::now();
        let scan_sockets = now >= self.next_socket_scan;
        if scan_sockets {
            self.next_socket_scan = now + self.socket_scan_interval;
        }
        let mut sample = Sample {
            elapsed,
            ..Sample::default()
        };
        let mut root_gone = true;
        let mut max_hwm_bytes = 0;
        let root = self.root;
        let peaks = &mut self.peaks;
        self.tracked.retain(|&pid, tracked| {
            let status = match tracked.status.read() {
                Ok(s) if !s.zombie => s,
                _ => return false,
            };
            if scan_sockets {
                if let Ok((fds, sockets)) = procfs::count_fds_and_sockets(pid) {
                    tracked.fds = fds;
                    tracked.sockets = sockets;
                }
            } else if let Ok(fds) = procfs::count_fds(pid) {
                tracked.fds = fds;
            }
            if pid == root {
                root_gone = false;
                sample.root_hwm_bytes = status.hwm_bytes;
            }
            sample.rss_bytes += status.rss_bytes;
            sample.swap_bytes += status.swap_bytes;
            sample.threads += status.threads;
            sample.processes += 1;
            sample.open_fds += tracked.fds;
            sample.sockets += tracked.sockets;
            max_hwm_bytes = max_hwm_bytes.max(status.hwm_bytes);
            if let Some(peak) = peaks.get_mut(&pid) {
                peak.rss_peak_bytes = peak.rss_peak_bytes.max(status.rss_bytes);
                peak.swap_peak_bytes = peak.swap_peak_bytes.max(status.swap_bytes);
                peak.hwm_bytes = peak.hwm_bytes.max(status.hwm_bytes);
            }
            true
        });
        Reading {
            sample,
            root_gone,
            max_hwm_bytes,
        }
    }

    /// Pids currently tracked (live members of the tree).
    pub fn pids(&self) -> Vec<u32> {
        self.tracked.keys().copied().collect()
    }

    /// Sum of every process's kernel peak: an upper bound for the tree's peak.
    pub fn hwm_sum_bytes(&self) -> u64 {
        self.peaks.values().map(|p| p.hwm_bytes).sum()
    }

    pub fn process_peaks(&self) -> Vec<ProcessPeak> {
        self.peaks.values().cloned().collect()
    }
}
