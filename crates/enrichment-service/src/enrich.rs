//! Enriching movie rows from OMDB with the configured client strategy.
//!
//! Every strategy runs the movies' futures with [`futures::future::join_all`]
//! on the request's own task, not as spawned tasks. `join_all` polls each
//! future once, in order, before it polls any of them again, so in
//! `per-movie` mode every movie builds its client (synchronously, before its
//! first await) and sends its request before any response is handled: all N
//! clients are alive at once, exactly like the incident's `asyncio.gather`
//! over coroutines that each opened an `httpx.AsyncClient`. Spawned tasks
//! (a `JoinSet`) would spread the builds over the worker threads and let early
//! movies finish and drop their clients while later ones are still being
//! built, hiding part of the memory peak the harness exists to catch.

use futures::future::join_all;
use serde_json::Value;

use crate::config::ClientStrategy;
use crate::db::MovieRow;
use crate::omdb::{OmdbError, TrackedClient};
use crate::state::AppState;

/// One movie row with its OMDB object or the reason it has none.
#[derive(Debug, Clone, PartialEq)]
pub struct EnrichedMovie {
    /// The database row.
    pub row: MovieRow,
    /// OMDB's answer, or why there is none.
    pub omdb: Result<Value, OmdbError>,
}

impl EnrichedMovie {
    /// The response JSON: the row's columns plus `omdb` and `omdb_error`.
    pub fn into_json(self) -> Value {
        let mut object = self.row.columns;
        let (omdb, error) = match self.omdb {
            Ok(value) => (value, Value::Null),
            Err(err) => (Value::Null, Value::String(err.to_string())),
        };
        object.insert("omdb".to_owned(), omdb);
        object.insert("omdb_error".to_owned(), error);
        Value::Object(object)
    }
}

/// Enriches every row concurrently; never fails as a whole.
pub async fn enrich_movies(state: &AppState, rows: Vec<MovieRow>) -> Vec<EnrichedMovie> {
    match state.strategy {
        ClientStrategy::PerMovie => {
            join_all(rows.into_iter().map(|row| async move {
                // Built before the first await, like the incident's coroutine.
                let client = state.build_client();
                let omdb = match client {
                    Ok(client) => lookup(state, &client, &row).await,
                    Err(err) => Err(record_error(state, err)),
                };
                EnrichedMovie { row, omdb }
            }))
            .await
        }
        ClientStrategy::PerRequest => match state.build_client() {
            Ok(client) => enrich_with(state, &client, rows).await,
            Err(err) => fail_all(state, rows, &err),
        },
        ClientStrategy::Shared => match state.shared_client() {
            Some(client) => enrich_with(state, client, rows).await,
            None => fail_all(
                state,
                rows,
                &OmdbError::ClientBuild("no shared client".to_owned()),
            ),
        },
    }
}

async fn enrich_with(
    state: &AppState,
    client: &TrackedClient,
    rows: Vec<MovieRow>,
) -> Vec<EnrichedMovie> {
    join_all(rows.into_iter().map(|row| async move {
        let omdb = lookup(state, client, &row).await;
        EnrichedMovie { row, omdb }
    }))
    .await
}

fn fail_all(state: &AppState, rows: Vec<MovieRow>, err: &OmdbError) -> Vec<EnrichedMovie> {
    rows.into_iter()
        .map(|row| EnrichedMovie {
            row,
            omdb: Err(record_error(state, err.clone())),
        })
        .collect()
}

/// One OMDB call under the in-flight bound (the permit is taken after the client exists).
async fn lookup(
    state: &AppState,
    client: &TrackedClient,
    row: &MovieRow,
) -> Result<Value, OmdbError> {
    let Some(imdb_id) = row.imdb_id.as_deref() else {
        return Err(record_error(state, OmdbError::NoImdbId));
    };
    let _slot = state.acquire_call_slot().await;
    state.metrics.omdb_call();
    state
        .omdb
        .fetch(client, imdb_id)
        .await
        .map_err(|err| record_error(state, err))
}

fn record_error(state: &AppState, err: OmdbError) -> OmdbError {
    state.metrics.omdb_error(err.kind());
    err
}
