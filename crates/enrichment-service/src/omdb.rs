//! OMDB calls: building clients, one lookup, and classifying what went wrong.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Client, Url};
use serde_json::Value;

use crate::config::ApiKey;
use crate::metrics::Metrics;

/// Why one movie could not be enriched. `Display` is short and never holds the API key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OmdbError {
    /// The database row has no `imdb_id` to look up.
    #[error("row has no imdb_id")]
    NoImdbId,
    /// `reqwest::Client` construction failed.
    #[error("client build failed: {0}")]
    ClientBuild(String),
    /// The call exceeded the configured timeout.
    #[error("timeout")]
    Timeout,
    /// The TCP connection could not be established.
    #[error("connect failed: {0}")]
    Connect(String),
    /// The connection broke mid-call (reset, closed early …).
    #[error("transport error: {0}")]
    Transport(String),
    /// OMDB answered with an HTTP error status.
    #[error("HTTP {status}{}", .message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Status {
        /// The HTTP status code.
        status: u16,
        /// OMDB's `Error` field, if the body had one.
        message: Option<String>,
    },
    /// OMDB answered `"Response": "False"` (unknown film, bad key …).
    #[error("omdb: {0}")]
    ResponseFalse(String),
    /// The body was not an OMDB JSON object.
    #[error("malformed response: {0}")]
    Malformed(String),
}

impl OmdbError {
    /// A stable, low-cardinality class for the `kind` metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NoImdbId => "no_imdb_id",
            Self::ClientBuild(_) => "client_build",
            Self::Timeout => "timeout",
            Self::Connect(_) => "connect",
            Self::Transport(_) => "transport",
            Self::Status { status, .. } if *status >= 500 => "http_5xx",
            Self::Status { .. } => "http_4xx",
            Self::ResponseFalse(_) => "response_false",
            Self::Malformed(_) => "malformed",
        }
    }
}

/// A `reqwest::Client` counted in the metrics while it is alive.
#[derive(Debug)]
pub struct TrackedClient {
    client: Client,
    metrics: Arc<Metrics>,
}

impl TrackedClient {
    /// Builds a client with a total per-call `timeout` (synchronous: with the
    /// default native-tls backend this loads the system trust store).
    pub fn build(timeout: Duration, metrics: Arc<Metrics>) -> Result<Self, OmdbError> {
        let client = Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|err| OmdbError::ClientBuild(root_cause(&err.without_url())))?;
        metrics.client_built();
        Ok(Self { client, metrics })
    }
}

impl Drop for TrackedClient {
    fn drop(&mut self) {
        self.metrics.client_dropped();
    }
}

/// Where and with which key OMDB is called.
#[derive(Debug, Clone)]
pub struct OmdbEndpoint {
    base: Url,
    api_key: Option<ApiKey>,
}

impl OmdbEndpoint {
    /// `base` is OMDB_BASE_URL; calls go to `{base}/?apikey=KEY&i=IMDB_ID`.
    pub fn new(mut base: Url, api_key: Option<ApiKey>) -> Self {
        let path = format!("{}/", base.path().trim_end_matches('/'));
        base.set_path(&path);
        base.set_query(None);
        Self { base, api_key }
    }

    fn url_for(&self, imdb_id: &str) -> Url {
        let mut url = self.base.clone();
        {
            let mut query = url.query_pairs_mut();
            if let Some(key) = &self.api_key {
                query.append_pair("apikey", key.expose());
            }
            query.append_pair("i", imdb_id);
        }
        url
    }

    /// Looks up one film by IMDB id; `Ok` holds OMDB's JSON object.
    pub async fn fetch(&self, client: &TrackedClient, imdb_id: &str) -> Result<Value, OmdbError> {
        let result = self.fetch_inner(&client.client, imdb_id).await;
        result.map_err(|err| self.redact(err))
    }

    async fn fetch_inner(&self, client: &Client, imdb_id: &str) -> Result<Value, OmdbError> {
        let response = client
            .get(self.url_for(imdb_id))
            .send()
            .await
            .map_err(classify)?;
        let status = response.status();
        let body = response.bytes().await.map_err(classify)?;
        let parsed: Result<Value, serde_json::Error> = serde_json::from_slice(&body);
        let message = parsed
            .as_ref()
            .ok()
            .and_then(|v| v.get("Error"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        if status.is_client_error() || status.is_server_error() {
            return Err(OmdbError::Status {
                status: status.as_u16(),
                message,
            });
        }
        let json = parsed.map_err(|err| OmdbError::Malformed(err.to_string()))?;
        match json.get("Response").and_then(Value::as_str) {
            Some("True") => Ok(json),
            Some("False") => Err(OmdbError::ResponseFalse(
                message.unwrap_or_else(|| "no error message".to_owned()),
            )),
            _ => Err(OmdbError::Malformed(
                "no \"Response\" field in the body".to_owned(),
            )),
        }
    }

    /// Belt and braces: no message may carry the key, whatever a library put in it.
    fn redact(&self, err: OmdbError) -> OmdbError {
        let Some(key) = self
            .api_key
            .as_ref()
            .map(ApiKey::expose)
            .filter(|k| !k.is_empty())
        else {
            return err;
        };
        let scrub = |s: String| s.replace(key, "***");
        match err {
            OmdbError::ClientBuild(s) => OmdbError::ClientBuild(scrub(s)),
            OmdbError::Connect(s) => OmdbError::Connect(scrub(s)),
            OmdbError::Transport(s) => OmdbError::Transport(scrub(s)),
            OmdbError::ResponseFalse(s) => OmdbError::ResponseFalse(scrub(s)),
            OmdbError::Malformed(s) => OmdbError::Malformed(scrub(s)),
            OmdbError::Status { status, message } => OmdbError::Status {
                status,
                message: message.map(scrub),
            },
            OmdbError::Timeout => OmdbError::Timeout,
            OmdbError::NoImdbId => OmdbError::NoImdbId,
        }
    }
}

/// Maps a reqwest error (whose `Display` would include the URL, and so the key) to a class.
fn classify(err: reqwest::Error) -> OmdbError {
    let err = err.without_url();
    if err.is_timeout() {
        OmdbError::Timeout
    } else if err.is_connect() {
        OmdbError::Connect(root_cause(&err))
    } else {
        OmdbError::Transport(root_cause(&err))
    }
}

/// The innermost error message of the chain (no URL: reqwest's own layer is skipped).
fn root_cause(err: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
