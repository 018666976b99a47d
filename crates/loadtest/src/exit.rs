//! The process exit statuses, as DESIGN.md defines them.

/// How a `loadtest` invocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every gate passed (for the reproduction: both halves came out as expected).
    Pass = 0,
    /// A gate failed (for the reproduction: it no longer reproduces, or the fix fails).
    GateFailed = 1,
    /// Bad invocation or scenario.
    BadInput = 2,
    /// The scenario could not be run: service never ready, no port, no cgroup, …
    CouldNotRun = 3,
}

impl Exit {
    /// The numeric status.
    pub fn code(self) -> i32 {
        self as i32
    }
}
