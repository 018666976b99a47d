//! Tables printed on the terminal at the end of a run.

use memwatch::ByteSize;

use crate::outcome::RunOutcome;

fn oom_text(o: &RunOutcome) -> String {
    if o.memory.oom_killed {
        "yes, by the kernel".into()
    } else if o.memory.oom_kill_simulated {
        "yes (simulated)".into()
    } else {
        "no".into()
    }
}

fn figures(o: &RunOutcome) -> Vec<(&'static str, String)> {
    let m = &o.memory;
    let u = &o.upstream;
    let e = &u.classification.evidence;
    let mut rows = vec![
        (
            "peak RSS (tree, sampled)",
            ByteSize(m.peak_rss_bytes).to_string(),
        ),
        (
            "kernel peak (VmHWM)",
            ByteSize(m.kernel_hwm_bytes).to_string(),
        ),
        (
            "cgroup peak",
            m.cgroup_peak_bytes
                .map(|b| ByteSize(b).to_string())
                .unwrap_or_else(|| "–".into()),
        ),
        (
            "budget / limit",
            format!(
                "{} / {}",
                m.budget_bytes
                    .map(|b| ByteSize(b).to_string())
                    .unwrap_or_else(|| "–".into()),
                m.limit_bytes
                    .map(|b| ByteSize(b).to_string())
                    .unwrap_or_else(|| "none".into())
            ),
        ),
        ("confinement", m.confinement.clone()),
        ("OOM kill", oom_text(o)),
        (
            "upstream calls",
            match e.max_calls_in_flight {
                Some(most) => format!("{} (max {most} in flight)", u.calls),
                None => u.calls.to_string(),
            },
        ),
        (
            "upstream connections",
            format!(
                "{} opened ({} carried a call), max {} open",
                u.connections_opened, u.connections, u.max_open_connections
            ),
        ),
        (
            "new connections per call",
            format!("{:.2}", e.new_connections_per_call),
        ),
        (
            "client strategy (ledger)",
            u.classification.strategy.to_string(),
        ),
        (
            "load requests / failed",
            format!("{} / {}", o.load.requests, o.load.failures),
        ),
        (
            "latency p50 / p95 / max",
            format!(
                "{:.0} / {:.0} / {:.0} ms",
                o.load.latency.p50_ms, o.load.latency.p95_ms, o.load.latency.max_ms
            ),
        ),
    ];
    for g in &o.gates {
        rows.push((gate_label(g.name), g.status.word().to_string()));
    }
    rows.push((
        "verdict",
        if o.passed {
            "PASS".into()
        } else {
            "FAIL".into()
        },
    ));
    rows
}

fn gate_label(name: &str) -> &'static str {
    match name {
        "memory-budget" => "gate: memory budget",
        "client-per-call" => "gate: client per call",
        "crash" => "gate: crash / OOM",
        "error-rate" => "gate: error rate",
        "rss-growth" => "gate: RSS growth",
        "upstream-errors" => "gate: upstream errors",
        _ => "gate",
    }
}

/// The summary of one run, gate by gate.
pub fn run_summary(o: &RunOutcome) -> String {
    let mut s = format!(
        "\noomguard · {} · service {} · {}\n",
        o.scenario,
        o.service,
        if o.passed { "PASSED" } else { "FAILED" }
    );
    for g in &o.gates {
        s.push_str(&format!(
            "  {:<16} {:<5} {}\n",
            g.name,
            g.status.word(),
            g.summary
        ));
    }
    for (label, value) in figures(o).into_iter().take(12) {
        s.push_str(&format!("  {label:<28} {value}\n"));
    }
    if o.service_exit.died_during_run && !o.service_exit.last_output.is_empty() {
        s.push_str("  last output of the service:\n");
        for line in o.service_exit.last_output.iter().rev().take(10).rev() {
            s.push_str(&format!("    | {line}\n"));
        }
    }
    if let Some(md) = o.files.get("markdown") {
        s.push_str(&format!(
            "  reports: {}\n",
            std::path::Path::new(md)
                .parent()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        ));
    }
    s
}

/// The reproduction's side-by-side table: the bug and the fix on the same load.
pub fn comparison(columns: &[(&str, &RunOutcome)]) -> String {
    let tables: Vec<Vec<(&'static str, String)>> =
        columns.iter().map(|(_, o)| figures(o)).collect();
    let width = tables
        .iter()
        .flat_map(|t| t.iter().map(|(_, v)| v.chars().count()))
        .chain(columns.iter().map(|(title, _)| title.chars().count()))
        .max()
        .unwrap_or(20)
        + 3;
    let mut s = format!("\n  {:<28}", "");
    for (title, _) in columns {
        s.push_str(&format!("{title:<width$}"));
    }
    s.push('\n');
    let rows = tables.first().map(Vec::len).unwrap_or(0);
    for i in 0..rows {
        let label = tables[0][i].0;
        s.push_str(&format!("  {label:<28}"));
        for t in &tables {
            let value = t.get(i).map(|(_, v)| v.as_str()).unwrap_or("");
            s.push_str(&format!("{value:<width$}"));
        }
        s.push('\n');
    }
    s
}
