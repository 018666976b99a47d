//! Two wiremock servers behind the front, serving side by side (each runs on
//! its own thread, so the stub is not bound by one server thread) and reset
//! in turn so their memory stays flat: wiremock keeps a copy of every request
//! a mock matched until the server is reset, so once a server has taken
//! `rotate_after_requests` calls it takes no new ones, and as soon as its last
//! in-flight request is answered it is reset (and re-mounted) while the other
//! server takes every call. No request ever meets an empty server.

use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use wiremock::matchers::method;
use wiremock::{Mock, MockServer};

use crate::error::StubError;
use crate::responder::OmdbResponder;

#[derive(Debug)]
struct Rotation {
    in_flight: [u64; 2],
    /// Calls each server has taken since it was last reset.
    since_reset: [u64; 2],
    /// The server taking no new calls until it has been reset.
    draining: Option<usize>,
    resetting: bool,
    resets: u64,
    /// Which server takes the next call when both have as many in flight.
    next_on_tie: usize,
}

/// The two wiremock servers and which of them take new requests.
pub struct Backends {
    /// Always two servers; emptied only by `Drop`.
    servers: Vec<MockServer>,
    addrs: [SocketAddr; 2],
    responder: OmdbResponder,
    rotate_after: u64,
    rotation: Mutex<Rotation>,
}

/// Starts a dedicated wiremock server on loopback with the OMDB responder
/// mounted and request recording off.
pub async fn start_wiremock(responder: &OmdbResponder) -> Result<MockServer, StubError> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).map_err(StubError::Backend)?;
    let server = MockServer::builder()
        .listener(listener)
        .disable_request_recording()
        .start()
        .await;
    mount(&server, responder).await;
    Ok(server)
}

async fn mount(server: &MockServer, responder: &OmdbResponder) {
    Mock::given(method("GET"))
        .respond_with(responder.clone())
        .mount(server)
        .await;
}

/// Frees every request copy a server started by [`start_wiremock`] keeps
/// (wiremock's `reset` also drops the mock, so the responder is mounted
/// again). Requests arriving meanwhile may get a 404: reset an idle server.
pub async fn reset_wiremock(server: &MockServer, responder: &OmdbResponder) {
    server.reset().await;
    mount(server, responder).await;
}

impl Backends {
    /// Starts both servers.
    pub async fn start(responder: OmdbResponder, rotate_after: u64) -> Result<Self, StubError> {
        let a = start_wiremock(&responder).await?;
        let b = start_wiremock(&responder).await?;
        let addrs = [*a.address(), *b.address()];
        Ok(Self {
            servers: vec![a, b],
            addrs,
            responder,
            rotate_after,
            rotation: Mutex::new(Rotation {
                in_flight: [0; 2],
                since_reset: [0; 2],
                draining: None,
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
    pub fn acquire(&self) -> usize {
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
        if r.since_reset[index] >= self.rotate_after && r.draining.is_none() {
            r.draining = Some(index);
        }
        index
    }

    /// Ends a request on backend `index`; resets a drained backend.
    pub fn release(self: &Arc<Self>, index: usize) {
        let mut r = self.lock();
        r.in_flight[index] = r.in_flight[index].saturating_sub(1);
        if r.draining == Some(index) && r.in_flight[index] == 0 && !r.resetting {
            r.resetting = true;
            drop(r);
            let this = Arc::clone(self);
            tokio::spawn(async move {
                reset_wiremock(&this.servers[index], &this.responder).await;
                let mut r = this.lock();
                r.resetting = false;
                r.draining = None;
                r.since_reset[index] = 0;
                r.resets += 1;
            });
        }
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
        let catalog = Arc::new(Catalog::embedded().expect("embedded catalog"));
        let responder = OmdbResponder::new(StubConfig::default(), catalog);
        Arc::new(
            Backends::start(responder, rotate_after)
                .await
                .expect("two wiremock servers"),
        )
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
}
