//! Two wiremock servers behind the front, used in turn so their memory stays
//! flat: wiremock keeps a copy of every request a mock matched until the
//! server is reset, so after `rotate_after_requests` calls the front switches
//! to the standby server and the old one is reset (and re-mounted) as soon as
//! its last in-flight request is answered. No request ever meets an empty
//! server.

use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use wiremock::matchers::method;
use wiremock::{Mock, MockServer};

use crate::error::StubError;
use crate::responder::OmdbResponder;

#[derive(Debug)]
struct Rotation {
    active: usize,
    in_flight: [u64; 2],
    since_switch: u64,
    /// The previously active server, waiting for its in-flight requests.
    draining: Option<usize>,
    resetting: bool,
    resets: u64,
}

/// The two wiremock servers and which one takes new requests.
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
                active: 0,
                in_flight: [0; 2],
                since_switch: 0,
                draining: None,
                resetting: false,
                resets: 0,
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

    /// Picks the backend for a new request and counts it in flight.
    pub fn acquire(&self) -> usize {
        let mut r = self.lock();
        let index = r.active;
        r.in_flight[index] += 1;
        r.since_switch += 1;
        if r.since_switch >= self.rotate_after && r.draining.is_none() {
            r.active = 1 - index;
            r.since_switch = 0;
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
