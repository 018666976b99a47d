//! The command line, parsed once at the edge (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::scenario::Override;
use crate::service_binary::Profile;

/// oomguard's load test: reproduce the OOM incident, or gate a service with a scenario.
///
/// With no subcommand it runs the reproduction: the reference service with one HTTP
/// client per movie under a 512 MiB limit, beside the fixed service, on the same load.
#[derive(Debug, Parser)]
#[command(name = "loadtest", version, about, long_about)]
pub struct Cli {
    /// What to do (default: `reproduce`).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options of the default `reproduce`.
    #[command(flatten)]
    pub reproduce: ReproduceArgs,
    /// More log output (-v: info from every crate, -vv: debug).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// No progress line, even on a terminal.
    #[arg(long, global = true)]
    pub no_progress: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Reproduce the incident and prove the fix, side by side (the default).
    Reproduce(ReproduceArgs),
    /// Run one scenario file and gate on it.
    Run(RunArgs),
    /// Check a scenario file (and --set overrides) without running it.
    Check(CheckArgs),
}

/// Where the reference service comes from.
#[derive(Debug, Clone, Args)]
pub struct ServiceBinaryArgs {
    /// Use this enrichment-service binary instead of building one.
    #[arg(long, value_name = "PATH", env = "OOMGUARD_SERVICE_BIN")]
    pub service_bin: Option<PathBuf>,
    /// Cargo profile used to build the reference service.
    #[arg(long, value_enum, default_value = "release")]
    pub profile: Profile,
}

/// Options of `reproduce`.
#[derive(Debug, Clone, Args)]
pub struct ReproduceArgs {
    /// Output directory (default: target/oomguard/reproduce).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The service binary.
    #[command(flatten)]
    pub binary: ServiceBinaryArgs,
}

/// Options of `run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The scenario file, e.g. scenarios/pr-gate.toml.
    pub scenario: PathBuf,
    /// Output directory (default: target/oomguard/<scenario name>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Override a scenario key, e.g. --set vars.http_client=per-movie (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<Override>,
    /// The service binary (for scenarios that use {enrichment_service}).
    #[command(flatten)]
    pub binary: ServiceBinaryArgs,
}

/// Options of `check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// The scenario file.
    pub scenario: PathBuf,
    /// Override a scenario key (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<Override>,
}
