//! Time per batch of `enrich_movies` (the service's own enrichment function,
//! with a real `AppState`) through a local `omdb_stub::OmdbStub` that answers
//! in 0–2 ms, for each client strategy, unbounded and with `max_in_flight` 64.
//!
//! `per-movie` batches hold 100 movies (each movie builds a native-tls client,
//! ~90 ms of CPU, so 1000 would take ~90 s per batch); `per-request` and
//! `shared` batches hold 1000 movies, the incident's `limit=1000`. The stub runs
//! in this process on the runtime's worker threads; `enrich_movies` runs on
//! the bench thread, as one request's handler would. Every batch is checked:
//! a batch with a failed lookup panics, so an error path is never timed.

use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use criterion::{BatchSize, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use enrichment_service::{AppState, Config, enrich_movies};
use omdb_stub::{Latency, OmdbStub, StubConfig};

/// Movies per `per-movie` batch.
const PER_MOVIE_BATCH: u32 = 100;
/// Movies per `per-request` / `shared` batch (the incident's `limit=1000`).
const FULL_BATCH: u32 = 1000;
/// The bounded variant's `--max-in-flight`.
const MAX_IN_FLIGHT: usize = 64;

/// Raises the soft open-file limit to the hard one: an unbounded 1000-movie
/// batch holds ~1000 client sockets plus the stub's side of each, in this process.
fn raise_fd_limit() {
    // SAFETY: getrlimit/setrlimit only read and write the struct we own.
    unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

fn bench(c: &mut Criterion) {
    raise_fd_limit();
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let catalog = Arc::new(movie_fixtures::Catalog::embedded().expect("embedded dataset"));
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("movies.sqlite");
    movie_fixtures::write_sqlite(&db, &catalog, u64::from(FULL_BATCH)).expect("fixture");
    let stub_config = StubConfig {
        seed: 7,
        latency: Latency::Uniform {
            min_ms: 0,
            max_ms: 2,
        },
        ..StubConfig::default()
    };
    let stub = runtime
        .block_on(OmdbStub::start(
            stub_config,
            catalog,
            "127.0.0.1:0".parse().expect("address"),
        ))
        .expect("start the OMDB stub");

    let mut group = c.benchmark_group("enrich");
    group.sample_size(10);
    for (strategy, movies) in [
        ("per-movie", PER_MOVIE_BATCH),
        ("per-request", FULL_BATCH),
        ("shared", FULL_BATCH),
    ] {
        for max_in_flight in [0, MAX_IN_FLIGHT] {
            let config = Config::parse_from([
                "enrichment-service",
                "--omdb-base-url",
                &stub.url(),
                "--database-path",
                &db.to_string_lossy(),
                "--http-client",
                strategy,
                "--max-in-flight",
                &max_in_flight.to_string(),
                // A 100-movie per-movie batch spends ~9 s building clients
                // before the first answer is read: no lookup may time out.
                "--omdb-timeout-ms",
                "120000",
            ]);
            let state = AppState::new(&config).expect("app state");
            let rows = state.store.read(movies).expect("read movies");
            assert_eq!(rows.len(), movies as usize, "fixture rows");
            if strategy == "per-movie" {
                // 10 batches of ~9 s: one batch per sample, no linear ramp.
                group.sampling_mode(SamplingMode::Flat);
                group.warm_up_time(Duration::from_millis(1));
                group.measurement_time(Duration::from_secs(60));
            } else {
                group.sampling_mode(SamplingMode::Auto);
                group.warm_up_time(Duration::from_secs(1));
                group.measurement_time(Duration::from_secs(4));
            }
            group.throughput(Throughput::Elements(u64::from(movies)));
            let bound = if max_in_flight == 0 {
                "unbounded".to_owned()
            } else {
                format!("max_in_flight_{max_in_flight}")
            };
            let failures = Cell::new(0usize);
            group.bench_function(format!("{strategy}/{movies}_movies/{bound}"), |b| {
                b.iter_batched(
                    || rows.clone(),
                    |rows| {
                        let enriched = runtime.block_on(enrich_movies(&state, rows));
                        failures.set(
                            failures.get() + enriched.iter().filter(|m| m.omdb.is_err()).count(),
                        );
                        enriched
                    },
                    BatchSize::PerIteration,
                );
            });
            assert_eq!(
                failures.get(),
                0,
                "{strategy} ({bound}): some lookups failed, the timing is not of the happy path"
            );
        }
    }
    group.finish();
    let ledger = runtime.block_on(stub.shutdown());
    assert!(ledger.requests_total > 0, "the stub saw no request");
}

criterion_group!(benches, bench);
criterion_main!(benches);
