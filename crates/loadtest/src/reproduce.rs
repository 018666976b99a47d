//! `cargo run -p loadtest`: the incident reproduced beside its fix, on the same load.

use std::path::{Path, PathBuf};

use crate::gates::GateStatus;
use crate::interrupt::Interrupt;
use crate::outcome::RunOutcome;
use crate::report::terminal;
use crate::run::{RunError, RunOptions, mark_not_run, run_scenario};
use crate::scenario::{Override, ScenarioError, parse_scenario};

/// The reproduction scenario as shipped (used when the workspace copy is not there).
const OOM_REPRO: &str = include_str!("../../../scenarios/oom-repro.toml");

/// The two halves of the reproduction.
pub struct Reproduction {
    /// The per-movie service (the bug).
    pub bug: RunOutcome,
    /// The shared-client service (the fix).
    pub fix: RunOutcome,
}

impl Reproduction {
    /// What did not come out as expected; empty when the reproduction holds.
    pub fn surprises(&self) -> Vec<String> {
        let mut out = Vec::new();
        let status =
            |o: &RunOutcome, name: &str| o.gates.iter().find(|g| g.name == name).map(|g| g.status);
        if status(&self.bug, "memory-budget") != Some(GateStatus::Fail) {
            out.push("the per-movie service stayed within the 512 MiB budget and was not OOM-killed: the reproduction no longer reproduces".into());
        }
        if status(&self.bug, "client-per-call") != Some(GateStatus::Fail) {
            out.push(format!(
                "the ledger did not flag the per-movie service as one client per call (it said: {})",
                self.bug.upstream.classification.strategy
            ));
        }
        if !self.fix.passed {
            let failed: Vec<&str> = self
                .fix
                .gates
                .iter()
                .filter(|g| g.status == GateStatus::Fail)
                .map(|g| g.name)
                .collect();
            out.push(format!(
                "the shared-client service failed: {}",
                failed.join(", ")
            ));
        }
        out
    }
}

/// Loads `scenarios/oom-repro.toml` (from the workspace, or the copy built in) with `http_client` set.
pub fn repro_scenario(
    workspace: &Path,
    http_client: &str,
) -> Result<crate::scenario::Scenario, ScenarioError> {
    let file = workspace.join("scenarios/oom-repro.toml");
    let text = std::fs::read_to_string(&file).unwrap_or_else(|_| OOM_REPRO.to_string());
    let set: Override = format!("vars.http_client={http_client}").parse()?;
    parse_scenario(&file, &text, &[set])
}

/// Runs both halves.
pub async fn reproduce(
    workspace: &Path,
    out: &Path,
    enrichment_service: PathBuf,
    progress: bool,
    interrupt: Interrupt,
) -> Result<Reproduction, ReproduceError> {
    let mut halves = Vec::new();
    let strategies = ["per-movie", "shared"];
    for (i, http_client) in strategies.into_iter().enumerate() {
        let scenario = repro_scenario(workspace, http_client)?;
        eprintln!(
            "\n[{}/2] {} with --http-client {http_client}{}",
            i + 1,
            scenario.name,
            if http_client == "per-movie" {
                " (the bug: expected to break the budget)"
            } else {
                " (the fix: expected to pass)"
            }
        );
        let opts = RunOptions {
            out_dir: out.join(http_client),
            workspace: workspace.to_path_buf(),
            enrichment_service: Some(enrichment_service.clone()),
            progress,
        };
        let outcome = match run_scenario(&scenario, &opts, interrupt.clone()).await {
            Ok(outcome) => outcome,
            Err(e) => {
                // run_scenario reported this half; the halves not run yet must not keep
                // an older verdict beside it.
                for later in &strategies[i + 1..] {
                    mark_not_run(&out.join(later), &scenario.name, &e);
                }
                return Err(e.into());
            }
        };
        eprintln!("{}", terminal::run_summary(&outcome));
        halves.push(outcome);
    }
    let fix = halves.pop().expect("two halves");
    let bug = halves.pop().expect("two halves");
    Ok(Reproduction { bug, fix })
}

/// Why the reproduction could not run.
#[derive(Debug, thiserror::Error)]
pub enum ReproduceError {
    /// The shipped scenario is broken.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A half could not run.
    #[error(transparent)]
    Run(#[from] RunError),
}

/// The final table and verdict.
pub fn render(r: &Reproduction) -> String {
    let mut s = terminal::comparison(&[("per-movie (bug)", &r.bug), ("shared (fix)", &r.fix)]);
    let surprises = r.surprises();
    if surprises.is_empty() {
        s.push_str("\nreproduced: one HTTP client per movie breaks the 512 MiB budget and is flagged as one client per call; the shared client passes.\n");
    } else {
        s.push_str("\nNOT REPRODUCED:\n");
        for line in surprises {
            s.push_str(&format!("  - {line}\n"));
        }
    }
    s
}
