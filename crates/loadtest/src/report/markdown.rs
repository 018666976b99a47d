//! `summary.md`: for a CI step summary or a pull-request comment.

use std::fmt::Write;

use memwatch::ByteSize;

use super::{Report, ReportError};
use crate::gates::GateStatus;
use crate::outcome::RunOutcome;

/// The Markdown summary.
pub struct Markdown;

impl Report for Markdown {
    fn file_name(&self) -> &'static str {
        "summary.md"
    }
    fn kind(&self) -> &'static str {
        "markdown"
    }
    fn render(&self, o: &RunOutcome) -> Result<Vec<u8>, ReportError> {
        Ok(render(o).into_bytes())
    }
}

fn icon(status: GateStatus) -> &'static str {
    match status {
        GateStatus::Pass => "✅ pass",
        GateStatus::Fail => "❌ **FAIL**",
        GateStatus::Warn => "⚠️ warn",
        GateStatus::Skipped => "➖ skipped",
    }
}

fn bytes(b: Option<u64>) -> String {
    b.map(|b| ByteSize(b).to_string())
        .unwrap_or_else(|| "–".into())
}

/// `text` without terminal escape sequences and control characters (newlines and tabs
/// kept): a service's output may colour its lines.
fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters final-byte; other escapes: ESC and one character.
            if chars.next_if_eq(&'[').is_some() {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            } else {
                chars.next();
            }
        } else if !c.is_control() || c == '\n' || c == '\t' {
            out.push(c);
        }
    }
    out
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// A fenced code block that nothing in `text` can close early.
pub(crate) fn code_block(text: &str) -> String {
    let text = printable(text);
    let fence = "`".repeat((longest_backtick_run(&text) + 1).max(3));
    format!("{fence}\n{}\n{fence}\n", text.trim_end_matches('\n'))
}

/// Inline code that nothing in `text` can close early.
fn code_span(text: &str) -> String {
    let text = printable(text).replace('\n', " ");
    let ticks = "`".repeat(longest_backtick_run(&text) + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{text}{pad}{ticks}")
}

/// One table cell: a single line, with `|` and `<` escaped.
fn cell(text: &str) -> String {
    printable(text)
        .replace('\n', " ")
        .replace('|', "\\|")
        .replace('<', "&lt;")
}

/// Renders the Markdown text (also used for `$GITHUB_STEP_SUMMARY`).
pub fn render(o: &RunOutcome) -> String {
    let mut s = String::new();
    let verdict = if o.passed { "✅ passed" } else { "❌ failed" };
    let _ = writeln!(s, "## oomguard · `{}` · {verdict}\n", o.scenario);
    if !o.description.is_empty() {
        let _ = writeln!(s, "{}\n", o.description.trim());
    }
    let _ = writeln!(s, "| gate | result | evidence |\n| --- | --- | --- |");
    for g in &o.gates {
        let _ = writeln!(
            s,
            "| `{}` | {} | {} |",
            g.name,
            icon(g.status),
            cell(&g.summary)
        );
    }
    let m = &o.memory;
    let u = &o.upstream;
    let _ = writeln!(s, "\n| figure | value |\n| --- | --- |");
    let _ = writeln!(s, "| service | `{}` |", o.service);
    let _ = writeln!(
        s,
        "| peak RSS (sampled, tree) | {} |",
        bytes(Some(m.peak_rss_bytes))
    );
    let _ = writeln!(
        s,
        "| peak RSS + swap | {} |",
        bytes(Some(m.peak_rss_plus_swap_bytes))
    );
    let _ = writeln!(
        s,
        "| kernel peak (VmHWM) | {} |",
        bytes(Some(m.kernel_hwm_bytes))
    );
    let _ = writeln!(s, "| cgroup peak | {} |", bytes(m.cgroup_peak_bytes));
    let _ = writeln!(
        s,
        "| budget / limit | {} / {} — {} |",
        bytes(m.budget_bytes),
        bytes(m.limit_bytes),
        m.confinement
    );
    let oom = if m.oom_killed {
        "yes (kernel)"
    } else if m.oom_kill_simulated {
        "yes (simulated by watchdog)"
    } else {
        "no"
    };
    let _ = writeln!(s, "| OOM kill | {oom} |");
    let _ = writeln!(
        s,
        "| upstream calls / connections | {} calls ({}){}; {} connections opened ({} carried a call), max {} open |",
        u.calls,
        u.status_counts
            .iter()
            .map(|(s, n)| format!("HTTP {s}: {n}"))
            .collect::<Vec<_>>()
            .join(", "),
        u.classification
            .evidence
            .max_calls_in_flight
            .map(|most| format!(", max {most} in flight"))
            .unwrap_or_default(),
        u.connections_opened,
        u.connections,
        u.max_open_connections
    );
    let _ = writeln!(
        s,
        "| client strategy (ledger) | **{}** |",
        u.classification.strategy
    );
    let l = &o.load;
    let _ = writeln!(
        s,
        "| load requests / failures | {} / {} |",
        l.requests, l.failures
    );
    let _ = writeln!(
        s,
        "| latency p50 / p95 / max | {:.0} / {:.0} / {:.0} ms |",
        l.latency.p50_ms, l.latency.p95_ms, l.latency.max_ms
    );
    let _ = writeln!(
        s,
        "| samples / duration | {} / {:.1} s |",
        m.samples, o.duration_s
    );
    if let Some(why) = &l.stopped_early {
        let _ = writeln!(s, "\n> The load stopped early: {why}.");
    }
    if !o.service_exit.last_output.is_empty() && (o.service_exit.died_during_run || !o.passed) {
        let _ = writeln!(
            s,
            "\n<details><summary>last output of the service</summary>\n\n{}</details>",
            code_block(&o.service_exit.last_output.join("\n"))
        );
    }
    let _ = writeln!(s, "\n<details><summary>evidence per gate</summary>\n");
    for g in &o.gates {
        let _ = writeln!(s, "**{}**\n", g.name);
        for (k, v) in &g.evidence {
            let _ = writeln!(s, "- {k}: {}", code_span(&v.to_string()));
        }
        s.push('\n');
    }
    let _ = writeln!(s, "</details>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_output_cannot_break_out_of_its_block() {
        let output = "\u{1b}[31merror\u{1b}[0m\n```\n</details><b>x</b>\n````";
        let block = code_block(output);
        assert!(block.starts_with("`````\n"), "{block}");
        assert!(block.ends_with("\n`````\n"), "{block}");
        assert!(
            !block.contains('\u{1b}') && block.contains("error\n"),
            "{block}"
        );
        assert_eq!(cell("a | b\n<c>"), "a \\| b &lt;c>");
        assert_eq!(code_span("x`y"), "``x`y``");
        assert_eq!(code_span("`x"), "`` `x ``");
    }
}
