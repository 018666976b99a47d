//! The stub's throughput with and without its ledger front, and the ledger's
//! own cost per request.
//!
//! `stub/*` sends batches of 256 OMDB lookups, 16 at a time, over one pooled
//! `reqwest` client (plain HTTP) either to the full stub (ledger front →
//! its two wiremock servers) or straight to one wiremock server with the same
//! responder; criterion's `elem/s` is requests per second. Bare wiremock is
//! reset before each sample (untimed): it keeps a copy of every request it
//! matched and slows down as they pile up. `ledger/*` times the ledger's
//! bookkeeping alone, as the front calls it.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::stream::{self, StreamExt};
use omdb_stub::{
    ClosedBy, Ledger, OmdbResponder, OmdbStub, StubConfig, reset_wiremock, start_wiremock,
};

/// Lookups per timed batch.
const BATCH: u64 = 256;
/// Lookups in flight at once.
const CONCURRENCY: usize = 16;

/// Sends one batch to `base` and returns how many answers were not a 200.
async fn batch(client: &reqwest::Client, base: &str) -> usize {
    stream::iter(1..=BATCH)
        .map(|id| async move {
            let imdb_id = movie_fixtures::imdb_id_for(id).expect("imdb id");
            let url = format!("{base}/?apikey=bench&i={imdb_id}");
            match client.get(url).send().await {
                Ok(response) => {
                    let ok = response.status() == reqwest::StatusCode::OK;
                    usize::from(!(response.bytes().await.is_ok() && ok))
                }
                Err(_) => 1,
            }
        })
        .buffer_unordered(CONCURRENCY)
        .fold(0, |failed, one| async move { failed + one })
        .await
}

fn stub_throughput(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let catalog = Arc::new(movie_fixtures::Catalog::embedded().expect("embedded dataset"));
    let config = StubConfig::default();
    let responder = OmdbResponder::new(config.clone(), Arc::clone(&catalog));
    let (stub, bare) = runtime.block_on(async {
        let stub = OmdbStub::start(
            config.clone(),
            Arc::clone(&catalog),
            "127.0.0.1:0".parse().expect("address"),
        )
        .await
        .expect("start the stub");
        let bare = start_wiremock(&responder).await.expect("start wiremock");
        (stub, bare)
    });
    let client = reqwest::Client::new();

    let mut group = c.benchmark_group("stub");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    group.throughput(Throughput::Elements(BATCH));
    for (name, base, fresh) in [
        ("with_ledger_front", stub.url(), None),
        ("wiremock_only", bare.uri(), Some(&bare)),
    ] {
        let mut failed = 0;
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    if let Some(bare) = fresh {
                        reset_wiremock(bare, &responder).await;
                    }
                    let start = Instant::now();
                    for _ in 0..iters {
                        failed += batch(&client, &base).await;
                    }
                    start.elapsed()
                })
            })
        });
        assert_eq!(failed, 0, "{name}: some lookups failed");
    }
    group.finish();
    let ledger = runtime.block_on(stub.shutdown());
    assert!(ledger.requests_total > 0, "the front saw no request");
}

fn ledger_cost(c: &mut Criterion) {
    let mut group = c.benchmark_group("ledger");
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    // A fresh ledger per sample, so its vectors grow as they do in a run.
    group.bench_function("request_on_open_connection", |b| {
        b.iter_custom(|iters| {
            let ledger = Ledger::new(u64::MAX);
            let conn = ledger.open(40_000);
            let start = Instant::now();
            for _ in 0..iters {
                let slot = ledger.request_started(black_box(conn));
                ledger.request_answered(slot, 200);
            }
            start.elapsed()
        })
    });
    group.bench_function("connection_with_one_request", |b| {
        b.iter_custom(|iters| {
            let ledger = Ledger::new(u64::MAX);
            let start = Instant::now();
            for i in 0..iters {
                let conn = ledger.open(black_box(i as u16));
                let slot = ledger.request_started(conn);
                ledger.request_answered(slot, 200);
                ledger.close(conn, ClosedBy::Client);
            }
            start.elapsed()
        })
    });
    group.finish();
}

criterion_group!(benches, stub_throughput, ledger_cost);
criterion_main!(benches);
