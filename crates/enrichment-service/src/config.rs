//! Command-line and environment configuration.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use reqwest::Url;

/// How the service obtains its `reqwest::Client` for OMDB calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClientStrategy {
    /// A new client for every movie (the incident's bug: 1000 clients per `limit=1000`).
    PerMovie,
    /// One new client per `/movies` request, shared by its movies.
    PerRequest,
    /// One client for the whole process (the fix).
    Shared,
}

impl ClientStrategy {
    /// The flag value (`per-movie`, `per-request`, `shared`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PerMovie => "per-movie",
            Self::PerRequest => "per-request",
            Self::Shared => "shared",
        }
    }
}

/// The OMDB API key; its `Debug` output is redacted so it never reaches a log.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key itself, for building the upstream URL only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

fn parse_api_key(value: &str) -> Result<ApiKey, String> {
    Ok(ApiKey::new(value))
}

fn parse_base_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|err| format!("not an absolute URL ({err})"))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(format!("scheme must be http or https, not {other}")),
    }
}

/// The service's configuration: every flag has an environment-variable fallback.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "enrichment-service",
    version,
    about = "Serves movies from SQLite, enriched from OMDB."
)]
pub struct Config {
    /// TCP port to listen on (0 = any free port; the log line shows the real one).
    #[arg(long, env = "PORT", default_value_t = 8080)]
    pub port: u16,
    /// Address to bind.
    #[arg(long, env = "BIND", default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// OMDB base URL; movies are fetched from `{base}/?apikey=KEY&i=IMDB_ID`.
    #[arg(long, env = "OMDB_BASE_URL", value_parser = parse_base_url)]
    pub omdb_base_url: Url,
    /// OMDB API key (never logged).
    #[arg(long, env = "OMDB_API_KEY", hide_env_values = true, value_parser = parse_api_key)]
    pub omdb_api_key: Option<ApiKey>,
    /// SQLite database with a `movies` table (opened read-only).
    #[arg(long, env = "DATABASE_PATH")]
    pub database_path: PathBuf,
    /// HTTP client strategy for OMDB calls.
    #[arg(long, env = "HTTP_CLIENT", value_enum, default_value_t = ClientStrategy::Shared)]
    pub http_client: ClientStrategy,
    /// Maximum concurrent OMDB calls per process (0 = unbounded, as in the incident).
    #[arg(long, env = "MAX_IN_FLIGHT", default_value_t = 0)]
    pub max_in_flight: usize,
    /// Total timeout of one OMDB call, in milliseconds.
    #[arg(long, env = "OMDB_TIMEOUT_MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub omdb_timeout_ms: u64,
    /// Largest accepted `limit` on `/movies`.
    #[arg(long, env = "MAX_LIMIT", default_value_t = 10_000,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_limit: u32,
}

impl Config {
    /// The per-call OMDB timeout.
    pub fn omdb_timeout(&self) -> Duration {
        Duration::from_millis(self.omdb_timeout_ms)
    }
}
