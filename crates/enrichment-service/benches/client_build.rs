//! What getting an HTTP client costs: building one with the service's own
//! builder (reqwest 0.12 default features, native-tls/OpenSSL, which loads
//! the system trust store on every build) against cloning a shared one (an
//! `Arc` increment). The per-movie strategy pays the first for every movie.
//!
//! Bytes per client are not a criterion figure: they are measured from VmRSS
//! by `tests/client_cost.rs` (200 clients built and held), see BENCHMARKS.md.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use enrichment_service::{Metrics, TrackedClient};

/// The service's default `--omdb-timeout-ms`.
const OMDB_TIMEOUT: Duration = Duration::from_secs(10);

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("client_build");
    // ~70–100 ms per build: the same number of builds in every sample.
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(6));

    // Exactly what `per-movie` does per movie and `per-request` per request.
    let metrics = Arc::new(Metrics::new());
    group.bench_function("service_builder_native_tls", |b| {
        b.iter(|| TrackedClient::build(OMDB_TIMEOUT, Arc::clone(&metrics)).expect("client"))
    });
    group.bench_function("reqwest_client_new_native_tls", |b| {
        b.iter(reqwest::Client::new)
    });
    let shared = reqwest::Client::builder()
        .timeout(OMDB_TIMEOUT)
        .build()
        .expect("client");
    group.sampling_mode(SamplingMode::Auto);
    group.measurement_time(Duration::from_secs(2));
    group.bench_function("clone_shared_client", |b| {
        b.iter(|| black_box(&shared).clone())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
