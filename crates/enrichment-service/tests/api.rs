//! The HTTP API over a real socket, with wiremock as OMDB.

mod common;

use std::time::Duration;

use common::{
    SECRET_KEY, fixture, get_json, get_text, healthy_upstream, metric, metrics, serve_in_process,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn movies_have_their_columns_and_omdb_object() {
    let db = fixture(50);
    let upstream = healthy_upstream(Duration::ZERO).await;
    let service = serve_in_process(&upstream.uri(), &db.path, &[]).await;

    let (status, body) = get_json(&format!("{}/movies?limit=5", service.base)).await;
    assert_eq!(status, 200);
    let movies = body.as_array().expect("array");
    assert_eq!(movies.len(), 5);
    for (i, movie) in movies.iter().enumerate() {
        let id = i as u64 + 1;
        assert_eq!(movie["id"], id);
        assert_eq!(movie["imdb_id"], format!("tt{}", 9_000_000 + id));
        assert!(movie["title"].is_string(), "{movie}");
        assert!(
            movie.get("year").is_some() && movie.get("genre").is_some(),
            "{movie}"
        );
        assert_eq!(movie["omdb"]["imdbID"], movie["imdb_id"], "{movie}");
        assert_eq!(movie["omdb"]["Response"], "True");
        assert!(movie["omdb_error"].is_null(), "{movie}");
    }
    assert_eq!(movies[0]["title"], "The Land Girls");

    // The upstream saw the documented wire format.
    let requests = upstream.received_requests().await.expect("recording on");
    assert_eq!(requests.len(), 5);
    let query: Vec<(String, String)> = requests[0].url.query_pairs().into_owned().collect();
    assert_eq!(requests[0].url.path(), "/");
    assert!(
        query.contains(&("apikey".to_owned(), SECRET_KEY.to_owned())),
        "{query:?}"
    );
    assert!(
        query.iter().any(|(k, v)| k == "i" && v.starts_with("tt9")),
        "{query:?}"
    );

    // Without limit: the default (1000), capped here by the 50-row table.
    let (status, body) = get_json(&format!("{}/movies", service.base)).await;
    assert_eq!((status, body.as_array().map(Vec::len)), (200, Some(50)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_and_metrics_answer() {
    let db = fixture(3);
    let upstream = healthy_upstream(Duration::ZERO).await;
    let service = serve_in_process(&upstream.uri(), &db.path, &[]).await;
    let (status, body) = get_json(&format!("{}/healthz", service.base)).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    let (_, _) = get_json(&format!("{}/movies?limit=3", service.base)).await;
    let text = metrics(&service.base).await;
    assert!(
        text.contains("# TYPE enrichment_http_clients_built counter"),
        "{text}"
    );
    assert_eq!(metric(&text, "enrichment_movies_requests_total"), 1.0);
    assert_eq!(metric(&text, "enrichment_omdb_calls_total"), 3.0);
    assert_eq!(metric(&text, "enrichment_http_clients_built_total"), 1.0);
    assert_eq!(metric(&text, "enrichment_http_clients_alive"), 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_limit_is_a_400_naming_the_parameter() {
    let db = fixture(10);
    let upstream = healthy_upstream(Duration::ZERO).await;
    let service = serve_in_process(&upstream.uri(), &db.path, &["--max-limit", "10000"]).await;
    for query in [
        "limit=0",
        "limit=-1",
        "limit=abc",
        "limit=1e9",
        "limit=",
        "limit",
        "limit=10001",
        "limit=1.5",
        "limit=%2B5",
        "limit=99999999999999999999",
        "limit=1&limit=2",
    ] {
        let (status, body) = get_json(&format!("{}/movies?{query}", service.base)).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["parameter"], "limit", "{query}: {body}");
        assert!(
            body["error"].as_str().is_some_and(|e| e.contains("limit")),
            "{query}: {body}"
        );
    }
    let (status, body) = get_json(&format!("{}/movies?limt=5", service.base)).await;
    assert_eq!((status, body["parameter"].as_str()), (400, Some("limt")));
    // None of them reached the upstream.
    assert!(
        upstream
            .received_requests()
            .await
            .expect("recording")
            .is_empty()
    );
    let (status, _) = get_text(&format!("{}/movies?limit=10000", service.base)).await;
    assert_eq!(status, 200, "the cap itself is accepted");
}

/// `per-request` builds one client per `/movies` call, `shared` one per process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_request_and_shared_build_one_client_for_a_thousand_movies() {
    let db = fixture(1000);
    let upstream = healthy_upstream(Duration::from_millis(20)).await;
    for (strategy, built_after_two_calls) in [("per-request", 2.0), ("shared", 1.0)] {
        let service =
            serve_in_process(&upstream.uri(), &db.path, &["--http-client", strategy]).await;
        for call in 1..=2 {
            let (status, body) = get_json(&format!("{}/movies?limit=1000", service.base)).await;
            assert_eq!(status, 200);
            let movies = body.as_array().expect("array");
            assert_eq!(movies.len(), 1000);
            let failed = movies.iter().filter(|m| m["omdb"].is_null()).count();
            assert_eq!(failed, 0, "{strategy} call {call}");
            let text = metrics(&service.base).await;
            let expected_built = if strategy == "shared" {
                1.0
            } else {
                call as f64
            };
            assert_eq!(
                metric(&text, "enrichment_http_clients_built_total"),
                expected_built,
                "{strategy} after call {call}"
            );
            assert_eq!(
                metric(&text, "enrichment_http_clients_alive_max"),
                1.0,
                "{strategy}"
            );
            assert_eq!(
                metric(&text, "enrichment_omdb_calls_total"),
                1000.0 * call as f64
            );
        }
        let text = metrics(&service.base).await;
        assert_eq!(
            metric(&text, "enrichment_http_clients_built_total"),
            built_after_two_calls
        );
    }
}
