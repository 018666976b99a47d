//! The machine a run was measured on (via sysinfo), so that figures from two runs can be
//! compared, and a warning when swap would hide part of a service's footprint.

use serde::Serialize;
use sysinfo::{CpuRefreshKind, System};

/// Facts about the host.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Host {
    /// Operating system, e.g. `Linux (Debian GNU/Linux 12)`.
    pub os: String,
    /// Kernel version.
    pub kernel: String,
    /// Logical CPUs.
    pub cpus: usize,
    /// Physical memory.
    pub total_memory_bytes: u64,
    /// Memory available when the run started.
    pub available_memory_bytes: u64,
    /// Swap space; with swap a service can page out instead of being OOM-killed.
    pub swap_total_bytes: u64,
}

/// Reads the host's facts.
pub fn describe_host() -> Host {
    let mut system = System::new();
    system.refresh_memory();
    system.refresh_cpu_list(CpuRefreshKind::nothing());
    Host {
        os: System::long_os_version().unwrap_or_else(|| "unknown".into()),
        kernel: System::kernel_version().unwrap_or_else(|| "unknown".into()),
        cpus: system.cpus().len(),
        total_memory_bytes: system.total_memory(),
        available_memory_bytes: system.available_memory(),
        swap_total_bytes: system.total_swap(),
    }
}
