//! Tells a client's strategy (a client per call, per incoming request, or one
//! shared pool) from the ledger alone, with the evidence in numbers.
//!
//! * Calls are grouped into **bursts**: clusters of activity separated by at
//!   least [`ClassifyOptions::idle_gap_ms`] with no call outstanding.
//! * **Pooled**: connections carry calls from one burst into a later one, or
//!   carry several calls each and are kept open well past the end of their
//!   burst (still open at the snapshot, or closed only when the service
//!   stopped). Take the snapshot after the load and before the service stops.
//! * **Per-call**: almost every connection carries one call, and either the
//!   client closes it after *its own* answer (the stub's latency jitter spreads
//!   answers within a burst, so these closes are spread like the answers and
//!   mostly come before the burst's last answer, while a client per burst
//!   closes everything once the burst's last answer is in, and all at once), or
//!   new connections keep being opened while earlier ones sit answered and idle
//!   (*missed reuse*: a pool would have taken the idle connection). The second
//!   sign is the incident's own shape: every movie's task builds its client
//!   before its first await (`join_all`, `asyncio.gather`), so the clients are
//!   dropped only when the whole batch is done, and yet no idle connection is
//!   ever reused. A client per incoming request that fans out to all its calls
//!   at once has no idle connection while it opens its connections, so it does
//!   not show missed reuse — unless several incoming requests overlap, when one
//!   client's idle connections are invisible to the others: gate the client
//!   strategy with one user at a time.
//! * **Per-request**: connections are closed by the client, not reused across
//!   bursts, and not closed one-by-one after their own answers.
//! * **Inconclusive**: too few calls, or connections still open after a single
//!   burst (a second burst tells a pool from a client that is not closed).

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::ledger::{ClosedBy, LedgerSnapshot};

/// The client strategy seen from the outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientStrategy {
    /// A new client (and connection) for every upstream call: the incident.
    PerCall,
    /// A client per incoming request (burst): connections dropped together.
    PerRequest,
    /// One long-lived client: connections reused across bursts.
    Pooled,
    /// Not enough evidence either way.
    Inconclusive,
}

impl fmt::Display for ClientStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ClientStrategy::PerCall => "per-call",
            ClientStrategy::PerRequest => "per-request",
            ClientStrategy::Pooled => "pooled",
            ClientStrategy::Inconclusive => "inconclusive",
        })
    }
}

/// Thresholds of the classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClassifyOptions {
    /// Idle time (no call outstanding) that separates two bursts.
    pub idle_gap_ms: f64,
    /// Fewest calls needed for a verdict.
    pub min_calls: u64,
    /// A close this close to its burst's last answer (or later) counts as
    /// "at the burst's end".
    pub burst_end_window_ms: f64,
    /// A connection counts as idle (reusable by a pool) from this long after
    /// its answer, so a client still reading the answer is not counted.
    pub idle_margin_ms: f64,
}

impl Default for ClassifyOptions {
    fn default() -> Self {
        Self {
            idle_gap_ms: 300.0,
            min_calls: 100,
            burst_end_window_ms: 5.0,
            idle_margin_ms: 50.0,
        }
    }
}

/// The numbers behind a [`Classification`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Upstream calls seen.
    pub calls: u64,
    /// Connections that carried at least one call.
    pub connections: u64,
    /// `connections / calls`.
    pub new_connections_per_call: f64,
    /// Mean calls per connection.
    pub requests_per_connection_mean: f64,
    /// Most calls on one connection.
    pub requests_per_connection_max: u64,
    /// Fraction of connections that carried exactly one call.
    pub single_use_fraction: f64,
    /// Fraction of connections the client closed.
    pub closed_by_client_fraction: f64,
    /// Connections still open at the snapshot.
    pub still_open: u64,
    /// Fraction of connections kept open past their burst: still open at the
    /// snapshot, or closed more than `idle_gap_ms` after the last answer of
    /// their last burst (a pool kept them; a client per request drops them
    /// as soon as its burst is answered).
    pub kept_open_past_burst_fraction: f64,
    /// Median time from a connection's last answer to the client's close.
    pub median_close_delay_ms: Option<f64>,
    /// Spread (p90 - p10) of answer times within bursts: the jitter that
    /// separates per-call closes from closes at a burst's end.
    pub answer_spread_ms: f64,
    /// Fraction of client closes at or after their burst's last answer
    /// (minus `burst_end_window_ms`).
    pub closes_at_burst_end_fraction: Option<f64>,
    /// How much more bunched the client's closes are than the answers they
    /// follow: mean closes within ±`cluster_window_ms` of a close, divided by
    /// the same count for answers. About 1 when each close tracks its own
    /// answer (per-call); large when a whole burst's connections close at once.
    pub close_clustering_ratio: Option<f64>,
    /// Half-width of the window used by `close_clustering_ratio`.
    pub cluster_window_ms: f64,
    /// Fraction of new connections (after the first) opened while another
    /// connection sat answered and idle for at least `idle_margin_ms`: a pool
    /// would have reused it, so the call came from a different client.
    pub new_connections_despite_idle_fraction: Option<f64>,
    /// Fraction of connections that, once opened, waited at least a second
    /// for their first call while two or more further
    /// connections were opened one after another: clients built (and
    /// connected) one by one before any of them sends, as when every task
    /// builds its own client before its first await. A pool opens connections
    /// on demand and sends on them at once.
    pub opened_then_waited_fraction: Option<f64>,
    /// Bursts of calls.
    pub bursts: usize,
    /// Connections that carried calls in more than one burst.
    pub connections_reused_across_bursts: u64,
    /// Fraction of calls after the first burst carried by a connection that
    /// had already served an earlier burst.
    pub later_calls_on_reused_connections_fraction: Option<f64>,
    /// Most connections open at once.
    pub max_open_connections: usize,
    /// Most calls outstanding at once (started, not yet answered): how far
    /// the service fans out. A bound such as a semaphore of 64 shows here as
    /// at most 64 (give or take a call whose answer the front is still
    /// recording when the next one arrives). `None` when the ledger stopped keeping
    /// per-call detail (its request limit was reached): the number would be partial.
    #[serde(default)]
    pub max_calls_in_flight: Option<u64>,
    /// Idle gap used to split bursts.
    pub idle_gap_ms: f64,
}

/// The classifier's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    /// The strategy.
    pub strategy: ClientStrategy,
    /// The numbers it rests on.
    pub evidence: Evidence,
    /// One paragraph a human can check against the numbers.
    pub explanation: String,
}

/// Classifies with [`ClassifyOptions::default`].
pub fn classify(snapshot: &LedgerSnapshot) -> Classification {
    classify_with(snapshot, &ClassifyOptions::default())
}

struct Call {
    conn: usize,
    start: f64,
    end: f64,
    answered: Option<f64>,
}

fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted.get(i).copied()
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

/// Classifies the client strategy recorded in `snapshot`.
pub fn classify_with(snapshot: &LedgerSnapshot, options: &ClassifyOptions) -> Classification {
    let conns: Vec<_> = snapshot
        .connections
        .iter()
        .filter(|c| c.requests_carried > 0)
        .collect();
    let calls_total: u64 = conns.iter().map(|c| c.requests_carried).sum();
    let mut calls: Vec<Call> = Vec::new();
    for (ci, c) in conns.iter().enumerate() {
        for r in &c.requests {
            let end = r
                .answered_at_ms
                .or(c.closed_at_ms)
                .unwrap_or(snapshot.taken_at_ms)
                .max(r.started_at_ms);
            calls.push(Call {
                conn: ci,
                start: r.started_at_ms,
                end,
                answered: r.answered_at_ms,
            });
        }
    }
    calls.sort_by(|a, b| a.start.total_cmp(&b.start));

    // Bursts: merge activity (calls, and connections being opened, so that a
    // slow connect phase does not split a burst) separated by idle gaps.
    let mut activity: Vec<(f64, f64)> = calls.iter().map(|c| (c.start, c.end)).collect();
    activity.extend(conns.iter().map(|c| (c.opened_at_ms, c.opened_at_ms)));
    activity.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut burst_starts: Vec<f64> = Vec::new();
    let mut active_until = f64::NEG_INFINITY;
    for &(start, end) in &activity {
        if burst_starts.is_empty() || start > active_until + options.idle_gap_ms {
            burst_starts.push(start);
        }
        active_until = active_until.max(end);
    }
    let mut burst_of_call = Vec::with_capacity(calls.len());
    let mut burst_last_answer = vec![f64::NEG_INFINITY; burst_starts.len()];
    let mut burst_answers: Vec<Vec<f64>> = vec![Vec::new(); burst_starts.len()];
    for call in &calls {
        let b = burst_starts
            .partition_point(|&s| s <= call.start)
            .saturating_sub(1);
        if let Some(a) = call.answered {
            burst_answers[b].push(a);
            burst_last_answer[b] = burst_last_answer[b].max(a);
        }
        burst_of_call.push(b);
    }
    let bursts = burst_answers.iter().filter(|a| !a.is_empty()).count();

    // Per connection: bursts touched, last answer.
    let mut first_burst = vec![usize::MAX; conns.len()];
    let mut last_burst = vec![0usize; conns.len()];
    let mut last_answer = vec![f64::NEG_INFINITY; conns.len()];
    for (call, &b) in calls.iter().zip(&burst_of_call) {
        first_burst[call.conn] = first_burst[call.conn].min(b);
        last_burst[call.conn] = last_burst[call.conn].max(b);
        if let Some(a) = call.answered {
            last_answer[call.conn] = last_answer[call.conn].max(a);
        }
    }
    let reused = (0..conns.len())
        .filter(|&i| first_burst[i] != usize::MAX && last_burst[i] > first_burst[i])
        .count() as u64;
    let later: Vec<bool> = calls
        .iter()
        .zip(&burst_of_call)
        .filter(|(_, b)| **b > 0)
        .map(|(call, b)| first_burst[call.conn] < *b)
        .collect();
    let later_reused_fraction = (!later.is_empty())
        .then(|| later.iter().filter(|r| **r).count() as f64 / later.len() as f64);

    // Answer spread inside bursts (jitter), as p90 - p10 of answers relative
    // to their burst's first answer, averaged by weight.
    let mut spreads = Vec::new();
    for answers in &burst_answers {
        if answers.len() >= 10 {
            let s = sorted(answers.clone());
            if let (Some(p10), Some(p90)) = (quantile(&s, 0.1), quantile(&s, 0.9)) {
                spreads.push((p90 - p10, s.len() as f64));
            }
        }
    }
    let weight: f64 = spreads.iter().map(|(_, w)| w).sum();
    let answer_spread_ms = if weight > 0.0 {
        spreads.iter().map(|(s, w)| s * w).sum::<f64>() / weight
    } else {
        0.0
    };

    let n = conns.len() as f64;
    let single_use = conns.iter().filter(|c| c.requests_carried == 1).count() as f64;
    let client_closed: Vec<usize> = (0..conns.len())
        .filter(|&i| conns[i].closed_by == ClosedBy::Client)
        .collect();
    let still_open = conns
        .iter()
        .filter(|c| c.closed_by == ClosedBy::StillOpen)
        .count() as u64;
    let mut delays = Vec::new();
    let mut at_end = 0usize;
    let mut judged = 0usize;
    for &i in &client_closed {
        let (Some(closed), true) = (conns[i].closed_at_ms, last_answer[i].is_finite()) else {
            continue;
        };
        delays.push(closed - last_answer[i]);
        let end = burst_last_answer[last_burst[i]];
        if end.is_finite() {
            judged += 1;
            if closed >= end - options.burst_end_window_ms {
                at_end += 1;
            }
        }
    }
    let delays = sorted(delays);
    let kept_open = (0..conns.len())
        .filter(|&i| match conns[i].closed_at_ms {
            None => true,
            Some(closed) => {
                let end = burst_last_answer[last_burst[i]];
                end.is_finite() && closed > end + options.idle_gap_ms
            }
        })
        .count() as f64;
    // Bunching of closes vs. bunching of the answers they follow, over the
    // single-use connections the client closed.
    let cluster_window_ms = (0.02 * answer_spread_ms).clamp(1.0, 10.0);
    let (mut closes, mut answers) = (Vec::new(), Vec::new());
    for &i in &client_closed {
        if let (1, Some(closed), true) = (
            conns[i].requests_carried,
            conns[i].closed_at_ms,
            last_answer[i].is_finite(),
        ) {
            closes.push(closed);
            answers.push(last_answer[i]);
        }
    }
    let close_clustering_ratio = (closes.len() >= 10).then(|| {
        let c = mean_neighbours(&sorted(closes), cluster_window_ms);
        let a = mean_neighbours(&sorted(answers), cluster_window_ms);
        c / a.max(1.0)
    });
    let despite_idle = missed_reuse_fraction(&conns, options.idle_margin_ms);
    let opened_then_waited = opened_then_waited_fraction(&conns, MIN_WAIT_BEFORE_FIRST_CALL_MS);
    let evidence = Evidence {
        calls: calls_total,
        connections: conns.len() as u64,
        new_connections_per_call: if calls_total > 0 {
            n / calls_total as f64
        } else {
            0.0
        },
        requests_per_connection_mean: if n > 0.0 { calls_total as f64 / n } else { 0.0 },
        requests_per_connection_max: conns.iter().map(|c| c.requests_carried).max().unwrap_or(0),
        single_use_fraction: if n > 0.0 { single_use / n } else { 0.0 },
        closed_by_client_fraction: if n > 0.0 {
            client_closed.len() as f64 / n
        } else {
            0.0
        },
        still_open,
        kept_open_past_burst_fraction: if n > 0.0 { kept_open / n } else { 0.0 },
        median_close_delay_ms: quantile(&delays, 0.5),
        answer_spread_ms,
        closes_at_burst_end_fraction: (judged > 0).then(|| at_end as f64 / judged as f64),
        close_clustering_ratio,
        cluster_window_ms,
        new_connections_despite_idle_fraction: despite_idle,
        opened_then_waited_fraction: opened_then_waited,
        bursts,
        connections_reused_across_bursts: reused,
        later_calls_on_reused_connections_fraction: later_reused_fraction,
        max_open_connections: snapshot.max_open_connections,
        max_calls_in_flight: (snapshot.requests_not_detailed == 0).then(|| max_in_flight(&calls)),
        idle_gap_ms: options.idle_gap_ms,
    };
    let (strategy, explanation) = decide(&evidence, options);
    Classification {
        strategy,
        evidence,
        explanation,
    }
}

/// Most calls outstanding at once; a call that ends exactly when another
/// starts does not overlap it.
fn max_in_flight(calls: &[Call]) -> u64 {
    let mut edges: Vec<(f64, i64)> = calls
        .iter()
        .flat_map(|c| [(c.start, 1), (c.end, -1)])
        .collect();
    edges.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut now, mut most) = (0i64, 0i64);
    for (_, step) in edges {
        now += step;
        most = most.max(now);
    }
    most as u64
}

/// Share of connections (after the first) opened while some other connection
/// sat answered and idle (for at least `margin_ms`) and then was closed without
/// carrying another call, more than `margin_ms` later. A pool takes an idle
/// connection (under load it may take a few hundred ms to send on it, so
/// reused connections are not counted); an idle connection that is never used
/// again while new ones are opened belongs to another client.
fn missed_reuse_fraction(
    conns: &[&crate::ledger::ConnectionRecord],
    margin_ms: f64,
) -> Option<f64> {
    let mut idle: Vec<(f64, f64)> = conns
        .iter()
        .filter_map(|c| {
            let closed = c.closed_at_ms?;
            let last_answer = c
                .requests
                .iter()
                .filter_map(|r| r.answered_at_ms)
                .reduce(f64::max)?;
            let last_start = c
                .requests
                .iter()
                .map(|r| r.started_at_ms)
                .reduce(f64::max)?;
            (last_start <= last_answer).then_some((last_answer + margin_ms, closed))
        })
        .collect();
    idle.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut opened: Vec<f64> = conns.iter().map(|c| c.opened_at_ms).collect();
    opened.sort_by(f64::total_cmp);
    let candidates = opened.get(1..).filter(|c| !c.is_empty())?;
    // Latest end among idle intervals begun by `t`: one of them outlasts
    // `t + margin` exactly when this maximum does.
    let (mut next, mut latest_end, mut missed) = (0usize, f64::NEG_INFINITY, 0usize);
    for &t in candidates {
        while next < idle.len() && idle[next].0 <= t {
            latest_end = latest_end.max(idle[next].1);
            next += 1;
        }
        if latest_end > t + margin_ms {
            missed += 1;
        }
    }
    Some(missed as f64 / candidates.len() as f64)
}

/// A connection that waited this long between being opened and its first call, while
/// others were being opened, was not opened on demand by a pool.
const MIN_WAIT_BEFORE_FIRST_CALL_MS: f64 = 1_000.0;

/// Share of connections that waited at least `margin_ms` between being opened
/// and their first call, while at least two other connections were opened
/// (more than `margin_ms` after it) before that call.
fn opened_then_waited_fraction(
    conns: &[&crate::ledger::ConnectionRecord],
    margin_ms: f64,
) -> Option<f64> {
    let mut opened: Vec<f64> = conns.iter().map(|c| c.opened_at_ms).collect();
    opened.sort_by(f64::total_cmp);
    if conns.len() < 3 {
        return None;
    }
    let waited = conns
        .iter()
        .filter(|c| {
            let Some(first) = c.requests.iter().map(|r| r.started_at_ms).reduce(f64::min) else {
                return false;
            };
            let from = c.opened_at_ms + margin_ms;
            if first < from {
                return false;
            }
            let later_opens =
                opened.partition_point(|&t| t < first) - opened.partition_point(|&t| t <= from);
            later_opens >= 2
        })
        .count();
    Some(waited as f64 / conns.len() as f64)
}

/// Mean number of points within ±`w` of each point (itself included).
fn mean_neighbours(sorted: &[f64], w: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let (mut lo, mut hi, mut total) = (0usize, 0usize, 0usize);
    for &x in sorted {
        while sorted[lo] < x - w {
            lo += 1;
        }
        while hi < sorted.len() && sorted[hi] <= x + w {
            hi += 1;
        }
        total += hi - lo;
    }
    total as f64 / sorted.len() as f64
}

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// Per-call closes follow their own answers, so they are about as bunched
/// as the answers; a client dropped at a burst's end closes everything at once
/// (tens of times more bunched with 20..120 ms jitter).
const MAX_PER_CALL_BUNCHING: f64 = 4.0;

/// Share of new connections opened beside an idle one above which the calls
/// cannot have shared a pool.
const MIN_MISSED_REUSE: f64 = 0.5;

fn decide(e: &Evidence, o: &ClassifyOptions) -> (ClientStrategy, String) {
    use ClientStrategy::*;
    if e.calls < o.min_calls {
        return (
            Inconclusive,
            format!(
                "only {} upstream calls were seen; at least {} are needed to tell client strategies apart \
                 (send more, e.g. one /movies?limit=1000 request, then another after an idle gap of {} ms)",
                e.calls, o.min_calls, o.idle_gap_ms
            ),
        );
    }
    let reused_later = e.later_calls_on_reused_connections_fraction.unwrap_or(0.0);
    if e.bursts >= 2 && e.connections_reused_across_bursts > 0 && reused_later >= 0.5 {
        return (
            Pooled,
            format!(
                "{} connections carried calls across {} bursts, and {} of the calls after the first burst \
                 used a connection opened earlier: one long-lived client pool",
                e.connections_reused_across_bursts,
                e.bursts,
                pct(reused_later)
            ),
        );
    }
    if e.requests_per_connection_mean >= 1.5 && e.kept_open_past_burst_fraction >= 0.5 {
        return (
            Pooled,
            format!(
                "{} connections carried {} calls ({:.1} per connection) and {} of them were kept open past the end of their burst: one long-lived client pool",
                e.connections,
                e.calls,
                e.requests_per_connection_mean,
                pct(e.kept_open_past_burst_fraction)
            ),
        );
    }
    let at_end = e.closes_at_burst_end_fraction.unwrap_or(1.0);
    let delay = e.median_close_delay_ms.unwrap_or(f64::INFINITY);
    let bunching = e.close_clustering_ratio.unwrap_or(f64::INFINITY);
    let despite_idle = e.new_connections_despite_idle_fraction.unwrap_or(0.0);
    let one_call_per_connection = e.single_use_fraction >= 0.8 && e.new_connections_per_call >= 0.8;
    let waited = e.opened_then_waited_fraction.unwrap_or(0.0);
    if one_call_per_connection && waited >= MIN_MISSED_REUSE {
        return (
            PerCall,
            format!(
                "{:.2} new connections per call, {} carried a single call, and {} of the connections were \
                 opened and then waited for their call while further connections were opened one after \
                 another: every call built its own HTTP client (and connection) before any call was sent, \
                 the incident's shape",
                e.new_connections_per_call,
                pct(e.single_use_fraction),
                pct(waited)
            ),
        );
    }
    if one_call_per_connection && despite_idle >= MIN_MISSED_REUSE {
        return (
            PerCall,
            format!(
                "{:.2} new connections per call, {} carried a single call, and {} of the new connections were opened while an earlier connection sat answered and idle, which any pool would have reused: every call came from its own HTTP client ({} of the closes came at the end of their burst)",
                e.new_connections_per_call,
                pct(e.single_use_fraction),
                pct(despite_idle),
                pct(at_end)
            ),
        );
    }
    if one_call_per_connection
        && e.closed_by_client_fraction >= 0.8
        && at_end < 0.5
        && bunching <= MAX_PER_CALL_BUNCHING
    {
        return (
            PerCall,
            format!(
                "{:.2} new connections per call, {} carried a single call, and the client closed each one \
                 after its own answer ({:.1} ms median), one by one as answers arrived (closes {bunching:.1}x \
                 as bunched as answers; {} at the burst's end): a new HTTP client per upstream call",
                e.new_connections_per_call,
                pct(e.single_use_fraction),
                delay,
                pct(at_end)
            ),
        );
    }
    if e.closed_by_client_fraction >= 0.5 {
        let jitter_note = if e.single_use_fraction >= 0.8 && e.answer_spread_ms < 10.0 {
            " (answers had almost no jitter, so per-call and per-request closes look alike: configure \
             uniform latency such as 20..120 ms to separate them)"
        } else {
            ""
        };
        return (
            PerRequest,
            format!(
                "connections were not reused across bursts ({} bursts) and the client closed {} of them, \
                 {} at the end of their burst (median {:.1} ms after their own last answer, answer spread \
                 {:.1} ms): a client per incoming request{jitter_note}",
                e.bursts,
                pct(e.closed_by_client_fraction),
                pct(at_end),
                delay,
                e.answer_spread_ms
            ),
        );
    }
    if e.bursts < 2 {
        return (
            Inconclusive,
            format!(
                "one burst of {} calls and {} connections still open: send a second burst after an idle gap \
                 of more than {} ms to tell a shared pool from clients that are never closed",
                e.calls, e.still_open, o.idle_gap_ms
            ),
        );
    }
    (
        Inconclusive,
        format!(
            "{} bursts, {} connections still open but none reused across bursts ({} new connections per \
             call): clients seem to be created and never closed (a leak), strategy cannot be told",
            e.bursts, e.still_open, e.new_connections_per_call
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Ledger;

    /// One connection carrying `calls` calls one after another, in a ledger that keeps
    /// per-call detail for at most `detail_limit` of them.
    fn sequential_calls(calls: u64, detail_limit: u64) -> LedgerSnapshot {
        let ledger = Ledger::new(detail_limit);
        let conn = ledger.open(40_000);
        for _ in 0..calls {
            let slot = ledger.request_started(conn);
            ledger.request_answered(slot, 200);
        }
        ledger.close(conn, ClosedBy::Client);
        ledger.snapshot()
    }

    #[test]
    fn max_calls_in_flight_is_left_out_when_the_ledger_cut_detail() {
        let whole = classify(&sequential_calls(3, 100));
        assert_eq!(whole.evidence.max_calls_in_flight, Some(1));
        let cut = sequential_calls(3, 2);
        assert_eq!(cut.requests_not_detailed, 1);
        assert_eq!(classify(&cut).evidence.max_calls_in_flight, None);
    }
}
