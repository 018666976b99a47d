//! Shared application state, built once at start-up.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::config::{ClientStrategy, Config};
use crate::db::{DbError, MovieStore};
use crate::metrics::Metrics;
use crate::omdb::{OmdbEndpoint, OmdbError, TrackedClient};

/// A start-up failure.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The database is missing, unreadable or lacks the `movies` table.
    #[error(transparent)]
    Database(#[from] DbError),
    /// The shared HTTP client could not be built.
    #[error("cannot build the shared HTTP client: {0}")]
    Client(OmdbError),
}

/// Everything a request handler needs; cloned cheaply as `Arc<AppState>`.
#[derive(Debug)]
pub struct AppState {
    /// The movie table.
    pub store: MovieStore,
    /// The OMDB endpoint and key.
    pub omdb: OmdbEndpoint,
    /// Which client strategy `/movies` uses.
    pub strategy: ClientStrategy,
    /// Total timeout of one OMDB call.
    pub omdb_timeout: Duration,
    /// Largest accepted `limit`.
    pub max_limit: u32,
    /// Metrics exported on `/metrics`.
    pub metrics: Arc<Metrics>,
    in_flight: Option<Semaphore>,
    shared_client: Option<TrackedClient>,
}

impl AppState {
    /// Opens the database (failing fast if it is unusable) and, for the
    /// `shared` strategy, builds the one client.
    pub fn new(config: &Config) -> Result<Arc<Self>, StartupError> {
        let store = MovieStore::open(&config.database_path)?;
        let metrics = Arc::new(Metrics::new());
        let shared_client = match config.http_client {
            ClientStrategy::Shared => Some(
                TrackedClient::build(config.omdb_timeout(), Arc::clone(&metrics))
                    .map_err(StartupError::Client)?,
            ),
            ClientStrategy::PerMovie | ClientStrategy::PerRequest => None,
        };
        Ok(Arc::new(Self {
            store,
            omdb: OmdbEndpoint::new(config.omdb_base_url.clone(), config.omdb_api_key.clone()),
            strategy: config.http_client,
            omdb_timeout: config.omdb_timeout(),
            max_limit: config.max_limit,
            metrics,
            in_flight: (config.max_in_flight > 0).then(|| Semaphore::new(config.max_in_flight)),
            shared_client,
        }))
    }

    /// Builds a new counted client with the configured timeout.
    pub fn build_client(&self) -> Result<TrackedClient, OmdbError> {
        TrackedClient::build(self.omdb_timeout, Arc::clone(&self.metrics))
    }

    /// The process-wide client (`shared` strategy only).
    pub fn shared_client(&self) -> Option<&TrackedClient> {
        self.shared_client.as_ref()
    }

    /// Waits for an OMDB call slot when `--max-in-flight` is set.
    pub async fn acquire_call_slot(&self) -> Option<SemaphorePermit<'_>> {
        match &self.in_flight {
            // The semaphore is never closed, so acquire cannot fail.
            Some(semaphore) => semaphore.acquire().await.ok(),
            None => None,
        }
    }
}
