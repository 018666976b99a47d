//! Two wiremock servers behind the front, serving side by side (each runs on
//! its own thread, so the stub is not bound by one server thread) and reset
//! in turn so their memory stays flat: wiremock keeps a copy of every request
//! a mock matched until the server is reset.
//!
//! Once a server has taken `rotate_after_requests` calls since its last reset
//! (the fuller one, if both have), it takes no new call and the other takes
//! every call. It is reset (and its responder mounted again) as soon as every
//! call sent to it has been matched by its responder: a matched call's answer
//! is already made, and only its delay may still be running, which a reset
//! does not disturb. So a slow or timed-out call does not hold up the reset,
//! and no request ever meets an empty server. Requests are matched whatever
//! their method, so every request that reaches a server is counted.
//!
//! Some calls are sent but never matched: the client hung up before wiremock
//! read the request, the connection to wiremock failed, or wiremock's HTTP
//! parser refused the request. A server is only told apart by totals, so such
//! a call would leave it one match short for good, and every later drain would
//! wait for its slowest call in flight (a timeout fault: minutes) while the
//! other server took every call unreset. So a drain also ends once the server
//! has drained for [`LOST_CALL_GRACE`]: wiremock matches a request within
//! milliseconds of receiving it, and no call has been sent to a draining
//! server since the one that filled it, so a call still unmatched by then
//! never reached it. The reset then writes such calls off; one matched after
//! all counts again.

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::error::StubError;
use crate::responder::OmdbResponder;

/// How long a server drains before calls sent to it and still unmatched are
/// taken as never having reached it: past the kernel's first two SYN
/// retransmissions (1 s, then 3 s), for the front's connect to a server whose
/// accept queue was full.
const LOST_CALL_GRACE: Duration = Duration::from_secs(3);

#[derive(Debug)]
struct Rotation {
    in_flight: [u64; 2],
    /// Calls sent to each server since it was last reset.
    since_reset: [u64; 2],
    /// Calls sent to each server since the stub started, less those written
    /// off as never matched.
    sent: [u64; 2],
    /// The server taking no new calls until it has been reset.
    draining: Option<usize>,
    /// When the draining server stopped taking calls.
    drain_started: Option<Instant>,
    resetting: bool,
    resets: u64,
    /// Which server takes the next call when both have as many in flight.
    next_on_tie: usize,
}

/// The OMDB responder as mounted on one server of the stub: counts the calls
/// it has matched since the stub started.
#[derive(Clone)]
struct CountingResponder {
    responder: OmdbResponder,
    matched: Arc<AtomicU64>,
}

impl Respond for CountingResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let template = self.responder.respond(request);
        self.matched.fetch_add(1, Ordering::SeqCst);
        template
    }
}

/// The two wiremock servers and which of them take new requests.
pub struct Backends {
    /// Always two servers; emptied only by `Drop`.
    servers: Vec<MockServer>,
    addrs: [SocketAddr; 2],
    responders: [CountingResponder; 2],
    rotate_after: u64,
    rotation: Mutex<Rotation>,
}

/// Starts a dedicated wiremock server on loopback with the OMDB responder
/// mounted and request recording off.
pub async fn start_wiremock(responder: &OmdbResponder) -> Result<MockServer, StubError> {
    start_with(responder.clone()).await
}

async fn start_with(responder: impl Respond + Clone + 'static) -> Result<MockServer, StubError> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).map_err(StubError::Backend)?;
    let server = MockServer::builder()
        .listener(listener)
        .disable_request_recording()
        .start()
        .await;
    mount(&server, responder).await;
    Ok(server)
}

async fn mount(server: &MockServer, responder: impl Respond + 'static) {
    Mock::given(any())
        .respond_with(responder)
        .mount(server)
        .await;
}

/// Frees every request copy a server started by [`start_wiremock`] keeps
/// (wiremock's `reset` also drops the mock, so the responder is mounted
/// again). Requests arriving meanwhile may get a 404: reset an idle server.
pub async fn reset_wiremock(server: &MockServer, responder: &OmdbResponder) {
    server.reset().await;
    mount(server, responder.clone()).await;
}

impl Backends {
    /// Starts both servers.
    pub async fn start(responder: OmdbResponder, rotate_after: u64) -> Result<Self, StubError> {
        let responders = [0, 1].map(|_| CountingResponder {
            responder: responder.clone(),
            matched: Arc::default(),
        });
        let a = start_with(responders[0].clone()).await?;
        let b = start_with(responders[1].clone()).await?;
        let addrs = [*a.address(), *b.address()];
        Ok(Self {
            servers: vec![a, b],
            addrs,
            responders,
            rotate_after,
            rotation: Mutex::new(Rotation {
                in_flight: [0; 2],
                since_reset: [0; 2],
                sent: [0; 2],
                draining: None,
                drain_started: None,
                resetting: false,
                resets: 0,
                next_on_tie: 0,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Rotation> {
        self.rotation.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Address of backend `index`.
    pub fn addr(&self, index: usize) -> SocketAddr {
        self.addrs[index]
    }

    /// How many times a backend has been reset so far.
    pub fn resets(&self) -> u64 {
        self.lock().resets
    }

    /// Picks the backend for a new request (the one with fewer calls in
    /// flight, in turn on a tie, never one waiting for its reset) and counts
    /// it in flight.
    pub fn acquire(self: &Arc<Self>) -> usize {
        let mut r = self.lock();
        let index = match r.draining {
            Some(draining) => 1 - draining,
            None if r.in_flight[0] == r.in_flight[1] => {
                let index = r.next_on_tie;
                r.next_on_tie = 1 - index;
                index
            }
            None => usize::from(r.in_flight[1] < r.in_flight[0]),
        };
        r.in_flight[index] += 1;
        r.since_reset[index] += 1;
        r.sent[index] += 1;
        self.rotate(r);
        index
    }

    /// Ends a request on backend `index` (answered or not).
    pub fn release(self: &Arc<Self>, index: usize) {
        let mut r = self.lock();
        r.in_flight[index] = r.in_flight[index].saturating_sub(1);
        self.rotate(r);
    }

    /// Moves the rotation on: a full server stops taking calls if none is
    /// draining, and the draining one is reset once every call sent to it has
    /// been matched, or has ended, or once it has drained for
    /// [`LOST_CALL_GRACE`] (see the module's note on calls that are never
    /// matched).
    fn rotate(self: &Arc<Self>, mut r: MutexGuard<'_, Rotation>) {
        if r.draining.is_none() {
            let fuller = usize::from(r.since_reset[1] > r.since_reset[0]);
            if r.since_reset[fuller] >= self.rotate_after {
                r.draining = Some(fuller);
                r.drain_started = Some(Instant::now());
            }
        }
        let Some(index) = r.draining else { return };
        let matched = self.responders[index].matched.load(Ordering::SeqCst);
        // A call written off at an earlier reset and matched after all.
        r.sent[index] = r.sent[index].max(matched);
        let lost_calls_written_off = r
            .drain_started
            .is_some_and(|t| t.elapsed() >= LOST_CALL_GRACE);
        if r.resetting
            || (r.in_flight[index] > 0 && matched < r.sent[index] && !lost_calls_written_off)
        {
            return;
        }
        r.resetting = true;
        drop(r);
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let server = &this.servers[index];
            let responder = &this.responders[index];
            // Nothing is sent to this server until `draining` is cleared below.
            server.reset().await;
            mount(server, responder.clone()).await;
            let mut r = this.lock();
            // Calls sent to this server and never matched never will be (none was sent
            // since it started draining): written off, so the next drain starts even.
            r.sent[index] = r.sent[index].min(responder.matched.load(Ordering::SeqCst));
            r.resetting = false;
            r.draining = None;
            r.drain_started = None;
            r.since_reset[index] = 0;
            r.resets += 1;
            // The other server may have filled up meanwhile.
            this.rotate(r);
        });
    }

    /// Whether a reset is under way (shutdown waits for it).
    pub fn is_resetting(&self) -> bool {
        self.lock().resetting
    }
}

impl Drop for Backends {
    /// wiremock's `MockServer` blocks on drop, which can spin on a busy async
    /// worker: the servers are dropped on a blocking thread when a runtime
    /// is around.
    fn drop(&mut self) {
        let servers = std::mem::take(&mut self.servers);
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn_blocking(move || drop(servers));
            }
            Err(_) => drop(servers),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use movie_fixtures::Catalog;

    use super::*;
    use crate::config::StubConfig;

    async fn backends(rotate_after: u64) -> Arc<Backends> {
        backends_with(rotate_after, StubConfig::default()).await
    }

    async fn backends_with(rotate_after: u64, config: StubConfig) -> Arc<Backends> {
        let catalog = Arc::new(Catalog::embedded().expect("embedded catalog"));
        let responder = OmdbResponder::new(config, catalog);
        Arc::new(
            Backends::start(responder, rotate_after)
                .await
                .expect("two wiremock servers"),
        )
    }

    /// Sends one real call to backend `index` and waits (bounded) until its responder has
    /// matched it (its first match); the task yields the answer's status and body.
    async fn send_until_matched(
        b: &Backends,
        index: usize,
    ) -> tokio::task::JoinHandle<(u16, String)> {
        let url = format!("http://{}/?apikey=k&i=tt9000001", b.addr(index));
        let call = tokio::spawn(async move {
            let answer = reqwest::get(url).await.expect("the call is answered");
            (
                answer.status().as_u16(),
                answer.text().await.unwrap_or_default(),
            )
        });
        for _ in 0..500 {
            if b.responders[index].matched.load(Ordering::SeqCst) == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        assert_eq!(b.responders[index].matched.load(Ordering::SeqCst), 1);
        call
    }

    /// Waits (bounded) for the `n`th reset to finish.
    async fn resets_reach(b: &Backends, n: u64) {
        for _ in 0..500 {
            if b.resets() >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("reset {n} did not finish in 5 s (resets: {})", b.resets());
    }

    #[tokio::test]
    async fn both_servers_take_calls_side_by_side() {
        let b = backends(1_000).await;
        let first = b.acquire();
        let second = b.acquire();
        assert_ne!(first, second, "two calls in flight go to both servers");
        let third = b.acquire();
        b.release(first);
        b.release(second);
        b.release(third);
        // One call at a time: the servers take turns.
        let turns: Vec<usize> = (0..6)
            .map(|_| {
                let i = b.acquire();
                b.release(i);
                i
            })
            .collect();
        assert_eq!(turns.iter().filter(|&&i| i == 0).count(), 3, "{turns:?}");
    }

    #[tokio::test]
    async fn a_full_server_takes_no_call_until_it_is_reset() {
        let b = backends(4).await;
        let mut taken = [0u64; 2];
        // Calls one at a time until a server has taken its 4.
        let full = loop {
            let i = b.acquire();
            taken[i] += 1;
            if taken[i] == 4 {
                break i;
            }
            b.release(i);
        };
        // Still in flight: the other server takes every new call meanwhile.
        for _ in 0..10 {
            let i = b.acquire();
            assert_eq!(i, 1 - full, "a full server took a call before its reset");
            b.release(i);
        }
        assert_eq!(b.resets(), 0, "reset waits for the call in flight");
        b.release(full);
        resets_reach(&b, 1).await;
        // Reset: it takes calls again, and the other (past its 4 now) is
        // reset in its turn.
        let two = [b.acquire(), b.acquire()];
        assert!(two.contains(&full), "the reset server is back: {two:?}");
        b.release(two[0]);
        b.release(two[1]);
        resets_reach(&b, 2).await;
        assert!(!b.is_resetting());
    }

    #[tokio::test]
    async fn under_steady_concurrency_both_servers_are_reset_in_turn() {
        // 8 calls always in flight, each ended call replaced by a new one.
        let b = backends(2).await;
        let mut held: std::collections::VecDeque<usize> = (0..8).map(|_| b.acquire()).collect();
        let mut most_since_reset = [0u64; 2];
        for _ in 0..2_000 {
            let done = held.pop_front().expect("a call in flight");
            b.release(done);
            for _ in 0..500 {
                if !b.is_resetting() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            held.push_back(b.acquire());
            let r = b.lock();
            for (most, now) in most_since_reset.iter_mut().zip(r.since_reset) {
                *most = (*most).max(now);
            }
        }
        // A server takes at most its 2, plus what arrives while the other drains.
        assert!(
            most_since_reset.iter().all(|&n| n <= 2 + 8 + 2),
            "a server went {most_since_reset:?} calls without a reset"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_call_that_never_reached_its_server_does_not_hold_up_its_resets() {
        let config = StubConfig {
            latency: crate::config::Latency::Fixed { ms: 6_000 },
            ..StubConfig::default()
        };
        let b = backends_with(2, config).await;
        // A call sent but never matched (its client hung up first): one match short.
        let lost = b.acquire();
        b.release(lost);
        let other = b.acquire();
        let slow = b.acquire();
        assert_eq!(slow, lost, "fewer calls in flight there");
        b.release(other);
        // A slow call on the same server: matched, its delay running. The server is
        // full (2 calls) and drains, one match short of its calls sent.
        let call = send_until_matched(&b, slow).await;
        // Traffic on the other server moves the rotation on; within the grace the
        // drain waits (a call might still be on its way), then the lost call is
        // written off and the server is reset, long before the slow call ends.
        let started = Instant::now();
        while b.resets() == 0 && started.elapsed() < Duration::from_secs(5) {
            let i = b.acquire();
            assert_ne!(i, slow, "a draining server takes no call");
            b.release(i);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let waited = started.elapsed();
        assert!(b.resets() >= 1, "not reset while its slow call ran");
        assert_eq!(
            b.lock().since_reset[slow],
            0,
            "the slow call's server was reset"
        );
        assert!(waited >= LOST_CALL_GRACE / 2, "reset after {waited:?}");
        assert!(!call.is_finished(), "the reset came before the slow answer");
        let (status, body) = call.await.expect("call task");
        assert_eq!(status, 200, "the slow call survives the reset: {body}");
        b.release(slow);
        // Written off: the next drain of that server starts even.
        assert_eq!(b.lock().sent[slow], 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_slow_call_does_not_hold_up_its_servers_reset() {
        let config = StubConfig {
            latency: crate::config::Latency::Fixed { ms: 1_500 },
            ..StubConfig::default()
        };
        let b = backends_with(1, config).await;
        let slow = b.acquire();
        // Matched: its answer is made, its delay is running.
        let call = send_until_matched(&b, slow).await;
        let other = b.acquire();
        assert_ne!(other, slow, "the full server takes no new call");
        resets_reach(&b, 1).await;
        assert!(!call.is_finished(), "the reset came before the slow answer");
        let (status, body) = call.await.expect("call task");
        assert_eq!(
            status, 200,
            "the slow call survives its server's reset: {body}"
        );
        assert!(body.contains("\"Response\":\"True\""), "{body}");
        b.release(slow);
        b.release(other);
    }
}
