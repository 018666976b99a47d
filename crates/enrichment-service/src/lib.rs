//! The service under test: `GET /movies` reads movies from SQLite and enriches
//! each one concurrently from OMDB, with a selectable HTTP client strategy.
//!
//! It reimplements the incident's endpoint faithfully: `per-movie` builds a
//! `reqwest::Client` (default features: native-tls/OpenSSL, ~0.9 MiB each)
//! for every movie before its first await, so one `limit=1000` request holds
//! 1000 clients at once; `per-request` builds one per call; `shared` (the fix)
//! uses one for the process. `/metrics` counts the clients built, which is
//! the ground truth oomguard's own tests check against.
//!
//! - Endpoints: `GET /movies?limit=N` (default 1000, cap `--max-limit`),
//!   `GET /healthz`, `GET /metrics` (OpenMetrics text:
//!   `enrichment_http_clients_built_total`, `enrichment_http_clients_alive`,
//!   `enrichment_http_clients_alive_max`, `enrichment_omdb_calls_total`,
//!   `enrichment_omdb_errors_total{kind}`, `enrichment_movies_requests_total`).
//! - Logs go to stderr; the start-up line is exactly
//!   `listening on http://ADDR:PORT` with the bound port (also for `--port 0`).
//! - The OMDB timeout is reqwest's total per-call timeout, whose clock starts
//!   when the call is created. In `per-movie` mode each client costs ~90 ms
//!   CPU (OpenSSL loading the trust store) and the builds run one after the
//!   other, so with `limit=1000` the early calls wait ~90 s before they are
//!   sent and most of them time out at the default 10 s: that slowness is part
//!   of the bug, not hidden.
//!
//! ```no_run
//! use clap::Parser;
//! use enrichment_service::{AppState, Config, app};
//!
//! # async fn run() -> anyhow::Result<()> {
//! let config = Config::parse_from([
//!     "enrichment-service",
//!     "--omdb-base-url", "http://127.0.0.1:9000",
//!     "--database-path", "/tmp/movies.sqlite",
//!     "--http-client", "per-movie",
//! ]);
//! let state = AppState::new(&config)?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! axum::serve(listener, app(state)).await?;
//! # Ok(())
//! # }
//! ```

mod config;
mod db;
mod enrich;
mod limit;
mod metrics;
mod omdb;
mod routes;
mod state;

pub use config::{ApiKey, ClientStrategy, Config};
pub use db::{DbError, MovieRow, MovieStore};
pub use enrich::{EnrichedMovie, enrich_movies};
pub use limit::{BadParameter, DEFAULT_LIMIT, parse_limit};
pub use metrics::{ErrorLabels, Metrics};
pub use omdb::{OmdbEndpoint, OmdbError, TrackedClient};
pub use routes::app;
pub use state::{AppState, StartupError};
