//! Ledgers recorded from the real `enrichment-service` binary (`loadtest` reproduction,
//! 2-core box, stub latency uniform 50..150 ms, three warm-up bursts of 50 movies, then
//! `/movies?limit=1000`): the classifier must keep telling them apart.

use omdb_stub::{ClientStrategy, LedgerSnapshot, classify};

fn load(name: &str) -> LedgerSnapshot {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("recorded ledger"))
        .expect("ledger JSON")
}

#[test]
fn per_movie_clients_under_join_all_are_per_call() {
    // Every movie builds its OpenSSL client (~90 ms) before its first await; the clients are
    // dropped only when the whole batch is done (then the kernel OOM-killed the service), so
    // closes bunch at the burst's end like a per-request client. Missed reuse tells them apart.
    let c = classify(&load("per-movie-join-all.json"));
    assert_eq!(c.strategy, ClientStrategy::PerCall, "{}", c.explanation);
    let e = &c.evidence;
    assert!(e.calls >= 200, "{e:?}");
    assert!(e.new_connections_per_call > 0.99, "{e:?}");
    assert!(e.single_use_fraction > 0.99, "{e:?}");
    assert!(
        e.new_connections_despite_idle_fraction.unwrap() > 0.8,
        "{e:?}"
    );
}

#[test]
fn the_shared_client_of_the_same_run_is_pooled() {
    let c = classify(&load("shared.json"));
    assert_eq!(c.strategy, ClientStrategy::Pooled, "{}", c.explanation);
    let e = &c.evidence;
    // Recorded after the service stopped: every connection closed then, long after its
    // last answer, and each carried about two calls.
    assert!(e.requests_per_connection_mean > 1.5, "{e:?}");
    assert!(e.kept_open_past_burst_fraction > 0.9, "{e:?}");
    assert!(
        e.new_connections_despite_idle_fraction.unwrap_or(0.0) < 0.2,
        "{e:?}"
    );
}

#[test]
fn per_movie_clients_that_all_send_after_the_builds_are_per_call() {
    // The same service on a less busy box (debug build, 2 × /movies?limit=100, latency
    // 10..60 ms): every client is built and connected one by one (~90 ms each) and no call
    // goes out before the last build, so no connection ever sits idle beside a new one and
    // all close together at the end, like a client per request. What gives it away: the
    // connections were opened one after another and then waited seconds for their call.
    let c = classify(&load("per-movie-sent-after-builds.json"));
    assert_eq!(c.strategy, ClientStrategy::PerCall, "{}", c.explanation);
    let e = &c.evidence;
    assert_eq!(e.calls, 200, "{e:?}");
    assert!(
        e.new_connections_despite_idle_fraction.unwrap_or(0.0) < 0.5,
        "{e:?}"
    );
    assert!(e.opened_then_waited_fraction.unwrap() > 0.8, "{e:?}");
}
