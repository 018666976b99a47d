//! An OMDB API stub with a connection ledger that sees, from the outside,
//! whether a service opens a new HTTP client for every upstream call.
//!
//! The stub answers `GET /?apikey=K&i=IMDB_ID` (or `&t=TITLE`) with OMDB-shaped
//! JSON generated from the movie fixtures, with seeded latency and faults. Its
//! public port is a small HTTP/1.1 front that records every client connection
//! in a [`Ledger`] and forwards requests to two `wiremock` servers that
//! serve side by side and are reset in turn (so memory stays flat over long
//! runs). [`classify`] turns the ledger
//! into a [`ClientStrategy`] with the evidence in numbers.
//!
//! ```no_run
//! use std::sync::Arc;
//! use omdb_stub::{Latency, OmdbStub, StubConfig, classify};
//!
//! # async fn demo() -> anyhow::Result<()> {
//! let catalog = Arc::new(movie_fixtures::Catalog::embedded()?);
//! let config = StubConfig {
//!     seed: 7,
//!     latency: Latency::Uniform { min_ms: 20, max_ms: 120 },
//!     ..StubConfig::default()
//! };
//! let stub = OmdbStub::start(config, catalog, "127.0.0.1:0".parse()?).await?;
//! println!("export OMDB_BASE_URL={}", stub.url());
//! // ... drive the service under test ...
//! let ledger = stub.shutdown().await;
//! let verdict = classify(&ledger);
//! println!("{}: {}", verdict.strategy, verdict.explanation);
//! # Ok(()) }
//! ```

mod backend;
mod body;
mod classify;
mod config;
mod error;
mod front;
mod http1;
mod ledger;
mod responder;
mod rng;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use movie_fixtures::Catalog;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use backend::{reset_wiremock, start_wiremock};
pub use body::movie_body;
pub use classify::{
    Classification, ClassifyOptions, ClientStrategy, Evidence, classify, classify_with,
};
pub use config::{Fault, Faults, Latency, StubConfig};
pub use error::{ConfigError, StubError};
pub use front::{CLASSIFY_PATH, LEDGER_PATH};
pub use ledger::{
    ClosedBy, ConnectionRecord, Ledger, LedgerSnapshot, OPEN_SERIES_BUCKET_MS, OpenSample,
    RequestRecord,
};
pub use responder::OmdbResponder;

use backend::Backends;
use front::Shared;

/// A running stub; stops on [`OmdbStub::shutdown`] (or, less tidily, on drop).
pub struct OmdbStub {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    accept: Option<JoinHandle<()>>,
}

impl OmdbStub {
    /// Starts the stub on `bind` (port 0 picks a free one). Only loopback
    /// addresses are accepted.
    pub async fn start(
        config: StubConfig,
        catalog: Arc<Catalog>,
        bind: SocketAddr,
    ) -> Result<OmdbStub, StubError> {
        config.validate()?;
        if !bind.ip().is_loopback() {
            return Err(StubError::NotLoopback(bind));
        }
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .map_err(|source| StubError::Bind { addr: bind, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| StubError::Bind { addr: bind, source })?;
        let responder = OmdbResponder::new(config.clone(), catalog);
        let backends = Arc::new(Backends::start(responder, config.rotate_after_requests).await?);
        let shared = Arc::new(Shared {
            ledger: Ledger::new(config.ledger_request_limit),
            answered: AtomicU64::new(0),
            backends,
        });
        let (shutdown, rx) = watch::channel(false);
        let accept = tokio::spawn(front::serve(listener, Arc::clone(&shared), rx));
        tracing::info!(%addr, "OMDB stub listening");
        Ok(OmdbStub {
            addr,
            shared,
            shutdown,
            accept: Some(accept),
        })
    }

    /// Base URL to give the service, e.g. `http://127.0.0.1:8089`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the front listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A copy of the connection ledger now.
    pub fn ledger(&self) -> LedgerSnapshot {
        self.shared.ledger.snapshot()
    }

    /// Calls answered so far (last byte written to the client).
    pub fn requests_served(&self) -> u64 {
        self.shared.answered.load(Ordering::Relaxed)
    }

    /// Client connections open now.
    pub fn open_connections(&self) -> usize {
        self.shared.ledger.open_connections()
    }

    /// How many times a wiremock backend has been reset so far.
    pub fn backend_resets(&self) -> u64 {
        self.shared.backends.resets()
    }

    /// Stops accepting, closes every connection (recorded as closed by
    /// shutdown), stops the wiremock servers and returns the final ledger.
    pub async fn shutdown(mut self) -> LedgerSnapshot {
        let _ = self.shutdown.send(true);
        if let Some(accept) = self.accept.take() {
            let _ = accept.await;
        }
        self.shared.ledger.close_all(ClosedBy::Shutdown);
        // Let a rotation reset finish before the servers go away (bounded).
        for _ in 0..200 {
            if !self.shared.backends.is_resetting() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.shared.ledger.snapshot()
    }
}

impl Drop for OmdbStub {
    /// Signals shutdown; connection tasks end on their own.
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}
