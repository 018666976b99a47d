//! The gates: each turns the run's facts into pass, fail, warn or skipped, with evidence.

use std::collections::BTreeMap;

use memwatch::ByteSize;
use omdb_stub::ClientStrategy;
use serde::Serialize;
use serde_json::{Value, json};

use crate::load::LoadResult;
use crate::outcome::{MemoryFacts, ServiceExit, UpstreamFacts};
use crate::scenario::{BudgetMeasure, GateMode, GateSpec};

/// A gate's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GateStatus {
    /// Within bounds.
    Pass,
    /// Out of bounds: the run fails.
    Fail,
    /// Out of bounds (or undecided) in `warn` mode: reported, the run still passes.
    Warn,
    /// Turned off, or nothing to judge.
    Skipped,
}

impl GateStatus {
    /// Upper-case word for tables.
    pub fn word(self) -> &'static str {
        match self {
            GateStatus::Pass => "PASS",
            GateStatus::Fail => "FAIL",
            GateStatus::Warn => "WARN",
            GateStatus::Skipped => "SKIP",
        }
    }
}

/// One gate's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct GateResult {
    /// Stable id: `memory-budget`, `client-per-call`, `crash`, `error-rate`, `rss-growth`.
    pub name: &'static str,
    /// The verdict.
    pub status: GateStatus,
    /// One sentence with the numbers that decided it.
    pub summary: String,
    /// The numbers behind it.
    pub evidence: BTreeMap<String, Value>,
}

/// The facts the gates judge.
pub struct Facts<'a> {
    /// Memory figures.
    pub memory: &'a MemoryFacts,
    /// Stub and ledger.
    pub upstream: &'a UpstreamFacts,
    /// How the service ended.
    pub exit: &'a ServiceExit,
    /// The load.
    pub load: &'a LoadResult,
    /// Share of upstream calls the stub's configured faults answer with an error status.
    pub expected_upstream_error_rate: f64,
    /// What in the scenario can make the client-strategy verdict wrong
    /// (`Scenario::client_strategy_caveats`).
    pub client_strategy_caveats: &'a [String],
}

/// Evaluates every gate of `spec`.
pub fn evaluate(spec: &GateSpec, facts: &Facts<'_>) -> Vec<GateResult> {
    vec![
        memory_budget(spec, facts.memory),
        client_per_call(
            spec.client_per_call,
            facts.upstream,
            facts.client_strategy_caveats,
        ),
        crash(spec.crash, facts.exit, facts.memory),
        error_rate(spec.max_error_rate, facts.load),
        upstream_errors(
            spec.upstream_errors,
            facts.upstream,
            facts.expected_upstream_error_rate,
        ),
        rss_growth(spec.max_rss_growth_mib_per_min, facts.memory),
    ]
}

/// Whether the run passes: no gate failed.
pub fn all_passed(results: &[GateResult]) -> bool {
    results.iter().all(|g| g.status != GateStatus::Fail)
}

fn tripped(mode: GateMode) -> GateStatus {
    match mode {
        GateMode::Fail => GateStatus::Fail,
        GateMode::Warn => GateStatus::Warn,
        GateMode::Off => GateStatus::Skipped,
    }
}

fn evidence(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn memory_budget(spec: &GateSpec, m: &MemoryFacts) -> GateResult {
    let Some(budget) = spec.rss_budget else {
        return GateResult {
            name: "memory-budget",
            status: GateStatus::Skipped,
            summary: "turned off (gates.rss_budget = \"off\")".into(),
            evidence: BTreeMap::new(),
        };
    };
    let (sampled, label) = match spec.budget_measure {
        BudgetMeasure::Rss => (m.peak_rss_bytes, "RSS"),
        BudgetMeasure::RssPlusSwap => (m.peak_rss_plus_swap_bytes, "RSS+swap"),
    };
    // The kernel's own high-water mark catches a spike between two samples.
    let peak = sampled.max(m.kernel_hwm_bytes);
    let killed = m.oom_killed || m.oom_kill_simulated;
    let over = peak > budget.0;
    let status = if over || killed {
        GateStatus::Fail
    } else {
        GateStatus::Pass
    };
    let summary = if killed {
        let how = if m.oom_killed {
            "OOM-killed by the kernel"
        } else {
            "killed by the watchdog (simulated OOM kill)"
        };
        format!(
            "{how} at its {} limit; peak {label} {} vs budget {}",
            m.limit_bytes
                .map(|b| ByteSize(b).to_string())
                .unwrap_or_default(),
            ByteSize(peak),
            budget
        )
    } else if over {
        format!(
            "peak {label} {} is over the budget {} by {}",
            ByteSize(peak),
            budget,
            ByteSize(peak - budget.0)
        )
    } else {
        format!(
            "peak {label} {} is within the budget {} ({} headroom)",
            ByteSize(peak),
            budget,
            ByteSize(budget.0 - peak)
        )
    };
    GateResult {
        name: "memory-budget",
        status,
        summary,
        evidence: evidence(&[
            ("measure", json!(label)),
            ("budget_bytes", json!(budget.0)),
            ("peak_bytes", json!(peak)),
            ("sampled_peak_bytes", json!(sampled)),
            ("kernel_hwm_bytes", json!(m.kernel_hwm_bytes)),
            ("cgroup_peak_bytes", json!(m.cgroup_peak_bytes)),
            ("limit_bytes", json!(m.limit_bytes)),
            ("oom_killed", json!(m.oom_killed)),
            ("oom_kill_simulated", json!(m.oom_kill_simulated)),
            ("samples", json!(m.samples)),
        ]),
    }
}

fn client_per_call(mode: GateMode, u: &UpstreamFacts, caveats: &[String]) -> GateResult {
    let c = &u.classification;
    let mut ev: BTreeMap<String, Value> = serde_json::to_value(&c.evidence)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .map(|o| o.into_iter().collect())
        .unwrap_or_default();
    let mut summary = format!("{}: {}", c.strategy, c.explanation);
    if mode != GateMode::Off && !caveats.is_empty() {
        summary.push_str(&format!(
            " — caution, this verdict may be wrong here: {}; gate the client strategy in a \
             scenario without them (README: \"How to get a client-strategy verdict\")",
            caveats.join("; ")
        ));
        ev.insert("caveats".into(), json!(caveats));
    }
    let status = if mode == GateMode::Off {
        GateStatus::Skipped
    } else {
        match c.strategy {
            ClientStrategy::PerCall => tripped(mode),
            ClientStrategy::Inconclusive => GateStatus::Warn,
            ClientStrategy::PerRequest | ClientStrategy::Pooled => GateStatus::Pass,
        }
    };
    GateResult {
        name: "client-per-call",
        status,
        summary,
        evidence: ev,
    }
}

fn crash(mode: GateMode, exit: &ServiceExit, m: &MemoryFacts) -> GateResult {
    let died = exit.died_during_run || m.oom_killed || m.oom_kill_simulated;
    let status = if mode == GateMode::Off {
        GateStatus::Skipped
    } else if died {
        tripped(mode)
    } else {
        GateStatus::Pass
    };
    let status_text = exit
        .status
        .clone()
        .unwrap_or_else(|| "still running".into());
    let summary = if died {
        let cause = if m.oom_killed {
            " (OOM-killed by the kernel)"
        } else if m.oom_kill_simulated {
            " (killed by the watchdog: simulated OOM kill)"
        } else {
            ""
        };
        let last = exit
            .last_output
            .last()
            .map(|l| format!("; last output: {l}"))
            .unwrap_or_default();
        format!("the service died during the run: {status_text}{cause}{last}")
    } else {
        "the service stayed up until the harness stopped it".into()
    };
    GateResult {
        name: "crash",
        status,
        summary,
        evidence: evidence(&[
            ("died_during_run", json!(exit.died_during_run)),
            ("exit_status", json!(exit.status)),
            ("oom_killed", json!(m.oom_killed)),
            ("oom_kill_simulated", json!(m.oom_kill_simulated)),
            ("last_output", json!(exit.last_output)),
        ]),
    }
}

fn error_rate(max: f64, load: &LoadResult) -> GateResult {
    let status = if load.requests == 0 || load.error_rate > max {
        GateStatus::Fail
    } else {
        GateStatus::Pass
    };
    let summary = if load.requests == 0 {
        "no load request completed".to_string()
    } else {
        format!(
            "{} of {} requests failed ({:.1}%, allowed {:.1}%)",
            load.failures,
            load.requests,
            load.error_rate * 100.0,
            max * 100.0
        )
    };
    GateResult {
        name: "error-rate",
        status,
        summary,
        evidence: evidence(&[
            ("requests", json!(load.requests)),
            ("failures", json!(load.failures)),
            ("error_rate", json!(load.error_rate)),
            ("max_error_rate", json!(max)),
            ("status_counts", json!(load.status_counts)),
        ]),
    }
}

/// Tolerance above the configured fault rate before upstream errors count as unexplained.
const UPSTREAM_ERROR_SLACK: f64 = 0.05;

fn upstream_errors(mode: GateMode, u: &UpstreamFacts, expected: f64) -> GateResult {
    let answered: u64 = u.status_counts.values().sum();
    let errors: u64 = u
        .status_counts
        .iter()
        .filter(|(s, _)| **s >= 400)
        .map(|(_, n)| n)
        .sum();
    let share = if answered > 0 {
        errors as f64 / answered as f64
    } else {
        0.0
    };
    let allowed = (expected + UPSTREAM_ERROR_SLACK).min(1.0);
    let counts = u
        .status_counts
        .iter()
        .map(|(s, n)| format!("{s}: {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let (status, summary) = if mode == GateMode::Off || answered == 0 {
        (
            GateStatus::Skipped,
            format!("{answered} upstream calls answered"),
        )
    } else if share > allowed {
        (
            tripped(mode),
            format!(
                "{errors} of {answered} upstream calls were answered with an error status ({:.0}%; the stub's faults explain {:.0}%; {counts}): the service is not doing the real work — check its API key and upstream URL (service.env, stub.api_key)",
                share * 100.0,
                expected * 100.0
            ),
        )
    } else {
        (
            GateStatus::Pass,
            format!(
                "{errors} of {answered} upstream calls answered with an error status ({counts})"
            ),
        )
    };
    GateResult {
        name: "upstream-errors",
        status,
        summary,
        evidence: evidence(&[
            ("answered_calls", json!(answered)),
            ("error_calls", json!(errors)),
            ("unanswered_calls", json!(u.unanswered_calls)),
            ("error_share", json!(share)),
            ("expected_from_faults", json!(expected)),
            ("status_counts", json!(u.status_counts)),
        ]),
    }
}

fn rss_growth(max: Option<f64>, m: &MemoryFacts) -> GateResult {
    let Some(max) = max else {
        return GateResult {
            name: "rss-growth",
            status: GateStatus::Skipped,
            summary: "no gates.max_rss_growth_mib_per_min set".into(),
            evidence: BTreeMap::new(),
        };
    };
    let (status, summary) = match m.rss_growth_mib_per_min {
        None => (
            GateStatus::Warn,
            "too few samples to fit a growth rate".to_string(),
        ),
        Some(g) if g > max => (
            GateStatus::Fail,
            format!("RSS grows {g:.2} MiB/min over the load's second half (allowed {max:.2})"),
        ),
        Some(g) => (
            GateStatus::Pass,
            format!("RSS grows {g:.2} MiB/min over the load's second half (allowed {max:.2})"),
        ),
    };
    GateResult {
        name: "rss-growth",
        status,
        summary,
        evidence: evidence(&[
            ("growth_mib_per_min", json!(m.rss_growth_mib_per_min)),
            ("max_mib_per_min", json!(max)),
        ]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory(growth: Option<f64>) -> MemoryFacts {
        MemoryFacts {
            rss_growth_mib_per_min: growth,
            ..MemoryFacts::default()
        }
    }

    #[test]
    fn rss_growth_trips_above_its_bound_and_passes_below() {
        assert_eq!(
            rss_growth(Some(4.0), &memory(Some(9.5))).status,
            GateStatus::Fail
        );
        assert_eq!(
            rss_growth(Some(4.0), &memory(Some(0.3))).status,
            GateStatus::Pass
        );
        assert_eq!(
            rss_growth(Some(4.0), &memory(None)).status,
            GateStatus::Warn
        );
        assert_eq!(
            rss_growth(None, &memory(Some(99.0))).status,
            GateStatus::Skipped
        );
    }

    fn upstream() -> UpstreamFacts {
        let ledger = omdb_stub::Ledger::new(u64::MAX);
        UpstreamFacts {
            calls: 0,
            connections: 0,
            connections_opened: 0,
            status_counts: BTreeMap::new(),
            unanswered_calls: 0,
            max_open_connections: 0,
            classification: omdb_stub::classify(&ledger.snapshot()),
        }
    }

    #[test]
    fn client_per_call_names_what_can_make_its_verdict_wrong() {
        let caveats = vec!["stub.faults.timeout = 0.2: a client that gives up".to_string()];
        let with = client_per_call(GateMode::Fail, &upstream(), &caveats);
        assert!(with.summary.contains("caution"), "{}", with.summary);
        assert!(with.summary.contains("stub.faults.timeout = 0.2"));
        assert_eq!(with.evidence.get("caveats"), Some(&json!(caveats)));
        let without = client_per_call(GateMode::Fail, &upstream(), &[]);
        assert!(!without.summary.contains("caution"));
        assert!(!without.evidence.contains_key("caveats"));
        let off = client_per_call(GateMode::Off, &upstream(), &caveats);
        assert_eq!(off.status, GateStatus::Skipped);
        assert!(!off.summary.contains("caution"));
    }

    #[test]
    fn memory_budget_uses_the_kernel_peak_and_the_oom_kill() {
        let spec = GateSpec::default();
        let mut m = MemoryFacts {
            peak_rss_bytes: 100 << 20,
            kernel_hwm_bytes: 600 << 20,
            ..MemoryFacts::default()
        };
        assert_eq!(
            memory_budget(&spec, &m).status,
            GateStatus::Fail,
            "a spike only VmHWM saw"
        );
        m.kernel_hwm_bytes = 100 << 20;
        assert_eq!(memory_budget(&spec, &m).status, GateStatus::Pass);
        m.oom_killed = true;
        assert_eq!(memory_budget(&spec, &m).status, GateStatus::Fail);
        let off = GateSpec {
            rss_budget: None,
            ..GateSpec::default()
        };
        assert_eq!(memory_budget(&off, &m).status, GateStatus::Skipped);
    }
}
