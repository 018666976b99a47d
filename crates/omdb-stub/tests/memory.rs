//! The stub's memory stays flat: 100 000 keep-alive requests, RSS of this
//! process (stub + a bare client) grows by less than 10 MiB after warm-up.
//! Alone in its binary so no other test moves the RSS.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::RawClient;
use omdb_stub::StubConfig;

const CONNECTIONS: usize = 40;
const WARM_UP: usize = 20_000;
const TOTAL: usize = 100_000;

async fn send(addr: std::net::SocketAddr, ids: &Arc<Vec<String>>, requests: usize) {
    let per_conn = requests / CONNECTIONS;
    let mut tasks = Vec::new();
    for c in 0..CONNECTIONS {
        let ids = Arc::clone(ids);
        tasks.push(tokio::spawn(async move {
            let mut client = RawClient::connect(addr).await.expect("connect");
            for i in 0..per_conn {
                let id = &ids[(c * 7919 + i) % ids.len()];
                let (status, _) = client
                    .get(&format!("/?apikey=k&i={id}"))
                    .await
                    .expect("get");
                assert_eq!(status, 200);
            }
        }));
    }
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(300), t)
            .await
            .expect("in time")
            .expect("task ok");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_is_flat_over_100k_requests() {
    let stub = Arc::new(common::start(StubConfig::default()).await);
    let ids = Arc::new(common::imdb_ids(3200));
    let addr = stub.addr();
    // The same keep-alive connections throughout; RSS is sampled once the
    // warm-up count has been served, and every few seconds for the record.
    let watcher = {
        let stub = Arc::clone(&stub);
        tokio::spawn(async move {
            let mut at_warm_up = None;
            let mut trace = Vec::new();
            let mut ticks = 0u32;
            while stub.requests_served() < TOTAL as u64 && ticks < 6000 {
                if at_warm_up.is_none() && stub.requests_served() >= WARM_UP as u64 {
                    at_warm_up = Some(common::rss_kib());
                }
                if ticks.is_multiple_of(40) {
                    trace.push((stub.requests_served(), common::rss_kib()));
                }
                ticks += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            (at_warm_up, trace)
        })
    };
    let started = Instant::now();
    send(addr, &ids, TOTAL).await;
    let elapsed = started.elapsed();
    let after = common::rss_kib();
    let (before, trace) = watcher.await.expect("watcher");
    let before = before.expect("warm-up reached");
    let served = stub.requests_served();
    let resets = stub.backend_resets();
    let ledger = stub.ledger();
    eprintln!(
        "RSS {before} KiB after {WARM_UP} requests, {after} KiB after {served} ({:+} KiB); \
         {:.0} req/s (debug build); {resets} backend resets; {} connections\ntrace (served, KiB): {trace:?}",
        after as i64 - before as i64,
        TOTAL as f64 / elapsed.as_secs_f64(),
        ledger.connections.len()
    );
    assert_eq!(served, TOTAL as u64);
    assert_eq!(ledger.requests_total, TOTAL as u64);
    assert!(resets >= 150, "rotation ran: {resets}");
    assert!(
        after < before + 10 * 1024,
        "RSS grew {} KiB",
        after as i64 - before as i64
    );
}
