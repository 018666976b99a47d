//! Finds or builds the reference `enrichment-service` binary for `{enrichment_service}`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Which cargo profile to build the reference service with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// Optimized, as services ship (the default).
    Release,
    /// Unoptimized; reuses a debug build that tests already made.
    Debug,
}

/// Why the binary could not be had.
#[derive(Debug, thiserror::Error)]
pub enum BinaryError {
    /// A `--service-bin` path that does not exist.
    #[error(
        "--service-bin {0}: no such file\n  help: build it with `cargo build --release -p enrichment-service`, or leave the flag out and loadtest builds it"
    )]
    Missing(PathBuf),
    /// cargo could not be started.
    #[error(
        "cannot run `{cargo} build`: {source}\n  help: is cargo on PATH? or pass --service-bin PATH"
    )]
    Cargo {
        /// The cargo program tried.
        cargo: String,
        /// Why.
        source: std::io::Error,
    },
    /// cargo ran and failed.
    #[error("`cargo build -p enrichment-service` failed (see its output above)")]
    BuildFailed,
    /// cargo succeeded but named no executable.
    #[error("`cargo build -p enrichment-service` reported no executable")]
    NoExecutable,
}

/// The binary: `explicit` if given, else a fresh cargo build in `workspace` (a no-op when
/// nothing changed). cargo's own progress goes to stderr as it builds.
pub fn locate_or_build(
    explicit: Option<&Path>,
    workspace: &Path,
    profile: Profile,
) -> Result<PathBuf, BinaryError> {
    if let Some(path) = explicit {
        return if path.is_file() {
            Ok(path.to_path_buf())
        } else {
            Err(BinaryError::Missing(path.to_path_buf()))
        };
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(workspace)
        .args([
            "build",
            "-p",
            "enrichment-service",
            "--bin",
            "enrichment-service",
            "--message-format=json-render-diagnostics",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if profile == Profile::Release {
        cmd.arg("--release");
    }
    tracing::info!(
        "cargo build of the reference service ({} profile): seconds when up to date, a few minutes the first time…",
        if profile == Profile::Release {
            "release"
        } else {
            "debug"
        }
    );
    let mut child = cmd.spawn().map_err(|source| BinaryError::Cargo {
        cargo: cargo.clone(),
        source,
    })?;
    let mut executable = None;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if message["reason"] == "compiler-artifact"
                && message["target"]["name"] == "enrichment-service"
                && let Some(path) = message["executable"].as_str()
            {
                executable = Some(PathBuf::from(path));
            }
        }
    }
    let status = child
        .wait()
        .map_err(|source| BinaryError::Cargo { cargo, source })?;
    if !status.success() {
        return Err(BinaryError::BuildFailed);
    }
    executable.ok_or(BinaryError::NoExecutable)
}
