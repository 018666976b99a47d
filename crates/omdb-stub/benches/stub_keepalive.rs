//! Requests/s through the stub's front (ledger + proxy + its two wiremock servers)
//! next to bare wiremock with the same responder, driven by a minimal
//! keep-alive HTTP/1.1 client (32 persistent connections) so that most of the
//! two cores go to the server side being compared. Bare wiremock is reset
//! before each sample (untimed): it keeps a copy of every request it matched
//! and slows down as they pile up, which would make the comparison depend on
//! how long criterion ran it. `front_overhead` compares them round by round,
//! with two bare servers and a plain relay beside them, over short and long
//! runs.
//!
//! `cargo bench -p omdb-stub --bench stub_keepalive`

#[path = "../tests/common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use omdb_stub::{OmdbResponder, OmdbStub, StubConfig, reset_wiremock, start_wiremock};

/// Keep-alive connections driving the load.
const CONNECTIONS: u64 = 32;

/// Sends about `total` requests over `CONNECTIONS` persistent connections;
/// returns the time scaled to exactly `total`.
async fn drive(addr: SocketAddr, paths: Arc<Vec<String>>, total: u64) -> Duration {
    let per_conn = total.div_ceil(CONNECTIONS);
    let sent = per_conn * CONNECTIONS;
    let started = Instant::now();
    common::keepalive_load(&[addr], &paths, CONNECTIONS, per_conn).await;
    started.elapsed().mul_f64(total as f64 / sent as f64)
}

fn keepalive_throughput(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let paths: Arc<Vec<String>> = Arc::new(
        common::imdb_ids(3200)
            .into_iter()
            .map(|id| format!("/?apikey=bench&i={id}"))
            .collect(),
    );
    let responder = OmdbResponder::new(StubConfig::default(), common::catalog());
    let (stub, bare) = rt.block_on(async {
        let addr = "127.0.0.1:0".parse().expect("addr");
        let stub = OmdbStub::start(StubConfig::default(), common::catalog(), addr)
            .await
            .expect("stub");
        let bare = start_wiremock(&responder).await.expect("bare wiremock");
        (stub, bare)
    });
    let front_addr = stub.addr();
    let bare_addr = *bare.address();

    let mut group = c.benchmark_group("keepalive");
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(2));
    group.measurement_time(Duration::from_secs(6));
    group.bench_function("bare_wiremock", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                reset_wiremock(&bare, &responder).await;
                drive(bare_addr, Arc::clone(&paths), iters).await
            })
        });
    });
    group.bench_function("front_with_ledger", |b| {
        b.iter_custom(|iters| rt.block_on(drive(front_addr, Arc::clone(&paths), iters)));
    });
    group.finish();
    rt.block_on(async {
        let ledger = stub.shutdown().await;
        assert!(ledger.requests_total > 0, "the front saw no request");
        tokio::task::spawn_blocking(move || drop(bare))
            .await
            .expect("drop wiremock");
    });
}

criterion_group!(benches, keepalive_throughput);
criterion_main!(benches);
