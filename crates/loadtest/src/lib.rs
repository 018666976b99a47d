//! `loadtest`: oomguard's command line. It ties the movie fixture, the OMDB stub with its
//! connection ledger, the service under test, the memory watch and goose into one run that
//! ends in a verdict, and it reproduces the incident oomguard was built for.
//!
//! Read it as a table of contents:
//! [`scenario`] (what a run is) → [`run`] (doing it: [`service`], [`load`], [`progress`]) →
//! [`gates`] (the verdict) → [`report`] (files and tables); [`reproduce`] is the default
//! command; [`interrupt`] makes sure nothing outlives a run.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use std::path::Path;
//! let scenario = loadtest::scenario::load_scenario(Path::new("scenarios/pr-gate.toml"), &[])?;
//! let opts = loadtest::run::RunOptions {
//!     out_dir: "target/oomguard/pr-gate".into(),
//!     workspace: ".".into(),
//!     enrichment_service: Some("target/release/enrichment-service".into()),
//!     progress: false,
//! };
//! let outcome = loadtest::run::run_scenario(&scenario, &opts, loadtest::interrupt::Interrupt::install()).await?;
//! assert!(outcome.passed);
//! # Ok(()) }
//! ```

pub mod cli;
pub mod exit;
pub mod gates;
pub mod host;
pub mod interrupt;
pub mod load;
pub mod outcome;
pub mod progress;
pub mod report;
pub mod reproduce;
pub mod run;
pub mod scenario;
pub mod service;
pub mod service_binary;
