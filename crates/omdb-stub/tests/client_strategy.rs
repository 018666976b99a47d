//! Real reqwest clients on loopback, 1000 calls per burst, classified from
//! the stub's connection ledger.
//!
//! The client-per-call case lives in `per_call.rs` (it needs its own process).

mod common;

use std::time::Duration;

use common::{CALLS, PAUSE, burst, call, jittery, new_client, settle, show};
use omdb_stub::{Classification, ClientStrategy, StubConfig, classify};

async fn client_per_burst(limit: Option<usize>) -> Classification {
    let stub = common::start(jittery()).await;
    let base = stub.url();
    let ids = common::imdb_ids(CALLS);
    for round in 0..2 {
        if round > 0 {
            tokio::time::sleep(PAUSE).await;
        }
        let client = new_client();
        burst(&ids, limit, |id| {
            let (client, base) = (client.clone(), base.clone());
            async move { call(&client, &base, &id).await }
        })
        .await;
        drop(client);
    }
    settle(&stub, Duration::from_secs(10)).await;
    classify(&stub.shutdown().await)
}

fn assert_per_request(c: &Classification) {
    eprintln!("{}", show(c));
    assert_eq!(c.strategy, ClientStrategy::PerRequest, "{}", show(c));
    let e = &c.evidence;
    assert_eq!(e.calls, 2 * CALLS);
    assert_eq!(e.bursts, 2, "{}", show(c));
    assert_eq!(e.connections_reused_across_bursts, 0, "{}", show(c));
    assert!(e.closed_by_client_fraction > 0.95, "{}", show(c));
    assert!(
        e.closes_at_burst_end_fraction.expect("closes") > 0.9,
        "{}",
        show(c)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_per_burst_unbounded_is_per_request() {
    let _serial = common::serial().await;
    let c = client_per_burst(None).await;
    assert_per_request(&c);
    // Unbounded: about one connection per call, yet not per-call.
    assert!(c.evidence.new_connections_per_call > 0.5, "{}", show(&c));
    assert!(
        c.evidence.median_close_delay_ms.expect("closes") > 10.0,
        "{}",
        show(&c)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_per_burst_bounded_is_per_request() {
    let _serial = common::serial().await;
    let c = client_per_burst(Some(64)).await;
    assert_per_request(&c);
    let e = &c.evidence;
    assert!(e.connections <= 2 * 64 + 8, "{}", show(&c));
    assert!(e.requests_per_connection_mean > 10.0, "{}", show(&c));
    assert!(e.single_use_fraction < 0.1, "{}", show(&c));
    assert!(
        (32..=64 + 2).contains(&e.max_calls_in_flight.expect("detail kept")),
        "{}",
        show(&c)
    );
}

async fn shared_client(limit: Option<usize>, bursts: usize) -> Classification {
    let stub = common::start(jittery()).await;
    let base = stub.url();
    let ids = common::imdb_ids(CALLS);
    let client = new_client();
    for round in 0..bursts {
        if round > 0 {
            tokio::time::sleep(PAUSE).await;
        }
        burst(&ids, limit, |id| {
            let (client, base) = (client.clone(), base.clone());
            async move { call(&client, &base, &id).await }
        })
        .await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let c = classify(&stub.ledger());
    drop(client);
    stub.shutdown().await;
    c
}

fn assert_pooled(c: &Classification, bursts: usize) {
    eprintln!("{}", show(c));
    assert_eq!(c.strategy, ClientStrategy::Pooled, "{}", show(c));
    let e = &c.evidence;
    assert_eq!(e.calls, bursts as u64 * CALLS);
    assert_eq!(e.bursts, bursts, "{}", show(c));
    assert!(e.connections_reused_across_bursts > 0, "{}", show(c));
    assert!(
        e.later_calls_on_reused_connections_fraction
            .expect("later bursts")
            > 0.75,
        "{}",
        show(c)
    );
    assert!(e.closed_by_client_fraction < 0.05, "{}", show(c));
    assert!(e.still_open > 0, "{}", show(c));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_client_unbounded_is_pooled() {
    let _serial = common::serial().await;
    let c = shared_client(None, 2).await;
    assert_pooled(&c, 2);
    // The first burst opens about one connection per call; later ones reuse them.
    assert!(c.evidence.max_open_connections > 100, "{}", show(&c));
    assert!(
        c.evidence.max_calls_in_flight.expect("detail kept") > 100,
        "{}",
        show(&c)
    );
    assert!(c.evidence.new_connections_per_call < 0.75, "{}", show(&c));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_client_bounded_is_pooled() {
    let _serial = common::serial().await;
    let c = shared_client(Some(64), 3).await;
    assert_pooled(&c, 3);
    let e = &c.evidence;
    assert!(e.connections <= 64 + 8, "{}", show(&c));
    assert!(e.requests_per_connection_mean > 30.0, "{}", show(&c));
    assert!(e.max_open_connections <= 64 + 8, "{}", show(&c));
    // The client's bound of 64, seen from the stub (a call answered just as
    // the next one arrives may overlap it).
    assert!(
        (32..=64 + 2).contains(&e.max_calls_in_flight.expect("detail kept")),
        "{}",
        show(&c)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_client_single_burst_is_never_per_call() {
    let _serial = common::serial().await;
    let c = shared_client(None, 1).await;
    eprintln!("{}", show(&c));
    assert_eq!(c.strategy, ClientStrategy::Inconclusive, "{}", show(&c));
    assert!(c.explanation.contains("second burst"), "{}", show(&c));
    assert_eq!(c.evidence.bursts, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_few_calls_is_inconclusive_and_says_how_many() {
    let stub = common::start(StubConfig::default()).await;
    let client = new_client();
    for id in common::imdb_ids(5) {
        call(&client, &stub.url(), &id).await;
    }
    let c = classify(&stub.shutdown().await);
    assert_eq!(c.strategy, ClientStrategy::Inconclusive);
    assert_eq!(c.evidence.calls, 5);
    assert!(c.explanation.contains("at least 100"), "{}", c.explanation);
}
