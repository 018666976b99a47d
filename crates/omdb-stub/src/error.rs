//! Errors of the stub library.

use std::net::SocketAddr;

/// An invalid configuration value, naming the field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid stub config field `{field}`: {reason}")]
pub struct ConfigError {
    /// Dotted name of the offending field.
    pub field: &'static str,
    /// What is wrong and what is accepted.
    pub reason: String,
}

impl ConfigError {
    pub(crate) fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// Why the stub could not start.
#[derive(Debug, thiserror::Error)]
pub enum StubError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The stub only binds loopback addresses.
    #[error("refusing to bind {0}: the OMDB stub only listens on loopback (use 127.0.0.1)")]
    NotLoopback(SocketAddr),
    /// A socket could not be bound or configured.
    #[error("could not bind {addr}: {source} (help: pick another port, or 0 for any free one)")]
    Bind {
        /// Address that was requested.
        addr: SocketAddr,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// The wiremock backends could not be set up.
    #[error("could not start the wiremock backend: {0}")]
    Backend(std::io::Error),
}
