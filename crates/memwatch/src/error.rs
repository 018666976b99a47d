//! The one error type of this crate.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while watching or confining a process tree.
#[derive(Debug, thiserror::Error)]
pub enum MemwatchError {
    /// The process to watch does not exist (or is already gone).
    #[error(
        "process {pid} does not exist (it may have exited already); start the sampler right after spawning it"
    )]
    NoSuchProcess {
        /// The pid that was asked for.
        pid: u32,
    },
    /// A file or directory could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done, e.g. "cannot create cgroup".
        action: &'static str,
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A sampler or limit setting is out of range.
    #[error("invalid setting: {0}")]
    InvalidConfig(String),
    /// The child process could not be started.
    #[error("cannot spawn {program}: {source}")]
    Spawn {
        /// The program that was to be run.
        program: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// No memory limit of the requested kind can be had on this machine.
    #[error("cannot confine the child with {mode}: {reason}")]
    LimitUnavailable {
        /// The mode that was asked for.
        mode: &'static str,
        /// Why it is unavailable, and what to do instead.
        reason: String,
    },
    /// The CSV time series could not be written.
    #[error("cannot write the CSV series: {0}")]
    Csv(#[from] csv::Error),
    /// The sampler thread panicked (a bug in memwatch).
    #[error("the sampler thread panicked")]
    SamplerPanicked,
}

impl MemwatchError {
    /// Wraps an I/O error with what was being done and on which path.
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
