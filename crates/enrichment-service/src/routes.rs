//! HTTP routes: `/movies`, `/healthz`, `/metrics`.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::enrich::enrich_movies;
use crate::limit::{BadParameter, parse_limit};
use crate::state::AppState;

/// The service's router; `state` comes from [`AppState::new`].
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/movies", get(movies))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn movies(
    State(state): State<Arc<AppState>>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    state.metrics.movies_request();
    let started = Instant::now();
    let pairs = match query {
        Ok(Query(pairs)) => pairs,
        Err(rejection) => {
            return bad_request(BadParameter {
                error: format!("malformed query string: {}", rejection.body_text()),
                parameter: "limit".to_owned(),
            });
        }
    };
    let limit = match parse_limit(&pairs, state.max_limit) {
        Ok(limit) => limit,
        Err(bad) => return bad_request(bad),
    };
    let store = state.store.clone();
    let rows = match tokio::task::spawn_blocking(move || store.read(limit)).await {
        Ok(Ok(rows)) => rows,
        Ok(Err(err)) => {
            tracing::error!("reading movies failed: {err}");
            return internal_error("cannot read the movie database");
        }
        Err(err) => {
            tracing::error!("database task failed: {err}");
            return internal_error("cannot read the movie database");
        }
    };
    let enriched = enrich_movies(&state, rows).await;
    let failed = enriched.iter().filter(|m| m.omdb.is_err()).count();
    let body: Vec<Value> = enriched.into_iter().map(|m| m.into_json()).collect();
    tracing::info!(
        limit,
        movies = body.len(),
        omdb_failed = failed,
        strategy = state.strategy.as_str(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "GET /movies"
    );
    Json(body).into_response()
}

fn bad_request(bad: BadParameter) -> Response {
    (StatusCode::BAD_REQUEST, Json(bad)).into_response()
}

fn internal_error(message: &str) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({ "error": message })),
    )
        .into_response()
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
