//! The connection ledger: every TCP connection a client opened to the stub,
//! the requests it carried, and who closed it when.
//!
//! Times are milliseconds (microsecond precision) since the stub started.

use serde::{Deserialize, Serialize};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

/// Width of one bucket of [`LedgerSnapshot::open_series`], in milliseconds.
pub const OPEN_SERIES_BUCKET_MS: u64 = 100;
const NOT_ANSWERED: u32 = u32::MAX;

/// Which side ended a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClosedBy {
    /// The client closed it (EOF, or `Connection: close` on its request).
    Client,
    /// The client's socket failed (reset by peer, write to a closed socket).
    ClientError,
    /// The stub closed it (reset fault, backend failure).
    Server,
    /// The stub shut down while it was open.
    Shutdown,
    /// Still open when the snapshot was taken.
    StillOpen,
}

/// One request carried by a connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestRecord {
    /// When its head had been read.
    pub started_at_ms: f64,
    /// When the last byte of its answer was written; `None` if never answered.
    pub answered_at_ms: Option<f64>,
    /// HTTP status of the answer (`None` if not answered, e.g. reset fault).
    pub status: Option<u16>,
}

/// One client connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionRecord {
    /// Sequence number, in order of acceptance.
    pub id: u64,
    /// Client's source port.
    pub peer_port: u16,
    /// When it was accepted.
    pub opened_at_ms: f64,
    /// When it was closed; `None` while open.
    pub closed_at_ms: Option<f64>,
    /// Who closed it.
    pub closed_by: ClosedBy,
    /// Upstream calls it carried (ledger endpoint requests excluded).
    pub requests_carried: u64,
    /// Requests to the stub's own `/__oomguard/…` endpoints.
    pub control_requests: u64,
    /// Each call in detail (may be shorter than `requests_carried` once the
    /// ledger's detail limit is reached).
    pub requests: Vec<RequestRecord>,
}

/// Open connections during one time bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenSample {
    /// Start of the bucket.
    pub at_ms: u64,
    /// Most connections open at once during the bucket.
    pub max_open: usize,
}

/// A copy of the ledger at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerSnapshot {
    /// When the snapshot was taken.
    pub taken_at_ms: f64,
    /// Every connection, in order of acceptance.
    pub connections: Vec<ConnectionRecord>,
    /// Calls carried in total.
    pub requests_total: u64,
    /// Calls not kept in detail because of the detail limit.
    pub requests_not_detailed: u64,
    /// Connections open now.
    pub open_connections: usize,
    /// Most connections open at once.
    pub max_open_connections: usize,
    /// Open connections over time, one sample per busy bucket of
    /// [`OPEN_SERIES_BUCKET_MS`].
    pub open_series: Vec<OpenSample>,
}

/// 24 bytes per call in one ledger-wide vector (not one per connection,
/// whose separate growth fragments the heap), so 100 000 calls cost ~2.4 MB.
#[derive(Debug)]
struct Request {
    start_us: u64,
    conn: u32,
    /// Microseconds from start to answer (`NOT_ANSWERED` if none; capped
    /// just below it, ~71 minutes).
    answer_after_us: u32,
    status: u16,
}

#[derive(Debug)]
struct Conn {
    peer_port: u16,
    opened_us: u64,
    closed: Option<(u64, ClosedBy)>,
    carried: u64,
    control: u64,
}

#[derive(Debug)]
struct Inner {
    conns: Vec<Conn>,
    requests: Vec<Request>,
    open: usize,
    max_open: usize,
    series: Vec<OpenSample>,
    not_detailed: u64,
    total: u64,
}

/// The live ledger, shared by every connection task of the front.
#[derive(Debug)]
pub struct Ledger {
    started: Instant,
    detail_limit: u64,
    inner: Mutex<Inner>,
}

/// Handle on one request in the ledger.
#[derive(Debug, Clone, Copy)]
pub struct RequestSlot {
    index: Option<usize>,
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

impl Ledger {
    /// An empty ledger keeping at most `detail_limit` request records.
    pub fn new(detail_limit: u64) -> Self {
        Self {
            started: Instant::now(),
            detail_limit,
            inner: Mutex::new(Inner {
                conns: Vec::new(),
                requests: Vec::new(),
                open: 0,
                max_open: 0,
                series: Vec::new(),
                not_detailed: 0,
                total: 0,
            }),
        }
    }

    fn now_us(&self) -> u64 {
        self.started.elapsed().as_micros() as u64
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn sample(inner: &mut Inner, now_us: u64) {
        let bucket = now_us / 1000 / OPEN_SERIES_BUCKET_MS * OPEN_SERIES_BUCKET_MS;
        match inner.series.last_mut() {
            Some(last) if last.at_ms == bucket => last.max_open = last.max_open.max(inner.open),
            _ => inner.series.push(OpenSample {
                at_ms: bucket,
                max_open: inner.open,
            }),
        }
    }

    /// Records a newly accepted connection and returns its id.
    pub fn open(&self, peer_port: u16) -> u64 {
        let now = self.now_us();
        let mut inner = self.lock();
        let id = inner.conns.len() as u64;
        inner.conns.push(Conn {
            peer_port,
            opened_us: now,
            closed: None,
            carried: 0,
            control: 0,
        });
        inner.open += 1;
        inner.max_open = inner.max_open.max(inner.open);
        Self::sample(&mut inner, now);
        id
    }

    /// Records that connection `conn` closed; the first call wins.
    pub fn close(&self, conn: u64, by: ClosedBy) {
        let now = self.now_us();
        let mut inner = self.lock();
        let Some(c) = inner.conns.get_mut(conn as usize) else {
            return;
        };
        if c.closed.is_some() {
            return;
        }
        c.closed = Some((now, by));
        inner.open = inner.open.saturating_sub(1);
        Self::sample(&mut inner, now);
    }

    /// Counts a request to the stub's own control endpoint.
    pub fn control_request(&self, conn: u64) {
        if let Some(c) = self.lock().conns.get_mut(conn as usize) {
            c.control += 1;
        }
    }

    /// Records the start of a call on `conn`.
    pub fn request_started(&self, conn: u64) -> RequestSlot {
        let now = self.now_us();
        let mut inner = self.lock();
        inner.total += 1;
        let Some(c) = inner.conns.get_mut(conn as usize) else {
            return RequestSlot { index: None };
        };
        c.carried += 1;
        let Ok(conn) = u32::try_from(conn) else {
            inner.not_detailed += 1;
            return RequestSlot { index: None };
        };
        if inner.requests.len() as u64 >= self.detail_limit {
            inner.not_detailed += 1;
            return RequestSlot { index: None };
        }
        inner.requests.push(Request {
            start_us: now,
            conn,
            answer_after_us: NOT_ANSWERED,
            status: 0,
        });
        RequestSlot {
            index: Some(inner.requests.len() - 1),
        }
    }

    /// Records that the answer to `slot` has been fully written.
    pub fn request_answered(&self, slot: RequestSlot, status: u16) {
        let now = self.now_us();
        let Some(index) = slot.index else {
            return;
        };
        let mut inner = self.lock();
        if let Some(r) = inner.requests.get_mut(index) {
            r.answer_after_us = now
                .saturating_sub(r.start_us)
                .min(u64::from(NOT_ANSWERED - 1)) as u32;
            r.status = status;
        }
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.lock().open
    }

    /// Calls carried so far.
    pub fn requests_total(&self) -> u64 {
        self.lock().total
    }

    /// Marks every still-open connection as closed by `by`.
    pub fn close_all(&self, by: ClosedBy) {
        let now = self.now_us();
        let mut inner = self.lock();
        let mut closed = 0;
        for c in inner.conns.iter_mut().filter(|c| c.closed.is_none()) {
            c.closed = Some((now, by));
            closed += 1;
        }
        inner.open = inner.open.saturating_sub(closed);
        Self::sample(&mut inner, now);
    }

    /// A consistent copy of the whole ledger.
    pub fn snapshot(&self) -> LedgerSnapshot {
        let now = self.now_us();
        let inner = self.lock();
        let mut connections: Vec<ConnectionRecord> = inner
            .conns
            .iter()
            .enumerate()
            .map(|(id, c)| ConnectionRecord {
                id: id as u64,
                peer_port: c.peer_port,
                opened_at_ms: ms(c.opened_us),
                closed_at_ms: c.closed.map(|(t, _)| ms(t)),
                closed_by: c.closed.map_or(ClosedBy::StillOpen, |(_, by)| by),
                requests_carried: c.carried,
                control_requests: c.control,
                requests: Vec::new(),
            })
            .collect();
        for r in &inner.requests {
            let answered = r.answer_after_us != NOT_ANSWERED;
            if let Some(c) = connections.get_mut(r.conn as usize) {
                c.requests.push(RequestRecord {
                    started_at_ms: ms(r.start_us),
                    answered_at_ms: answered.then(|| ms(r.start_us + u64::from(r.answer_after_us))),
                    status: answered.then_some(r.status),
                });
            }
        }
        LedgerSnapshot {
            taken_at_ms: ms(now),
            connections,
            requests_total: inner.total,
            requests_not_detailed: inner.not_detailed,
            open_connections: inner.open,
            max_open_connections: inner.max_open,
            open_series: inner.series.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_open_requests_close_and_max_open() {
        let ledger = Ledger::new(1);
        let a = ledger.open(1000);
        let b = ledger.open(1001);
        let s1 = ledger.request_started(a);
        ledger.request_answered(s1, 200);
        let s2 = ledger.request_started(a);
        ledger.request_answered(s2, 200);
        ledger.close(a, ClosedBy::Client);
        ledger.close(a, ClosedBy::Server);
        let snap = ledger.snapshot();
        assert_eq!(snap.max_open_connections, 2);
        assert_eq!(snap.open_connections, 1);
        assert_eq!(snap.requests_total, 2);
        assert_eq!(snap.requests_not_detailed, 1);
        let ca = &snap.connections[a as usize];
        assert_eq!(
            (ca.closed_by, ca.requests_carried, ca.requests.len()),
            (ClosedBy::Client, 2, 1)
        );
        assert_eq!(ca.requests[0].status, Some(200));
        assert_eq!(snap.connections[b as usize].closed_by, ClosedBy::StillOpen);
        ledger.close_all(ClosedBy::Shutdown);
        let snap = ledger.snapshot();
        assert_eq!(snap.open_connections, 0);
        assert_eq!(snap.connections[b as usize].closed_by, ClosedBy::Shutdown);
    }
}
