//! One new reqwest client per upstream call, 1000 calls at once: the
//! incident. The ledger must call it per-call.
//!
//! With reqwest's default OpenSSL backend every `Client` loads the system CA
//! bundle (~80 ms CPU each here, measured), which would make 1000 clients take
//! about 100 s on two cores and starve the runtime. This test process points
//! `SSL_CERT_FILE` at an empty file before any client exists, so a client
//! costs ~1.5 ms; `tls_built_in_root_certs(false)` alone does not help (the
//! bundle is loaded before it applies). The calls are plain HTTP either way,
//! so the wire behaviour the ledger sees is unchanged. It is the only test in
//! this binary because it changes the process environment.

mod common;

use std::time::Duration;

use common::{CALLS, burst, call, jittery, new_client, settle, show};
use omdb_stub::{ClientStrategy, classify};

fn cheap_openssl_clients() {
    let dir = std::env::temp_dir().join(format!("omdb-stub-empty-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("empty.pem");
    std::fs::write(&file, b"").expect("empty CA file");
    // SAFETY: called first thing in the only test of this binary, before the
    // runtime or any other thread of ours exists; nothing reads the
    // environment concurrently.
    unsafe {
        std::env::set_var("SSL_CERT_FILE", &file);
        std::env::set_var("SSL_CERT_DIR", &dir);
    }
}

#[test]
fn client_per_call_unbounded_is_per_call() {
    cheap_openssl_clients();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(per_call_unbounded());
}

async fn per_call_unbounded() {
    let stub = common::start(jittery()).await;
    let base = stub.url();
    let ids = common::imdb_ids(CALLS);
    let started = std::time::Instant::now();
    burst(&ids, None, |id| {
        let base = base.clone();
        async move {
            let client = new_client();
            call(&client, &base, &id).await;
        }
    })
    .await;
    eprintln!("1000 client-per-call calls took {:?}", started.elapsed());
    settle(&stub, Duration::from_secs(10)).await;
    let c = classify(&stub.shutdown().await);
    eprintln!("{}", show(&c));
    assert_eq!(c.strategy, ClientStrategy::PerCall, "{}", show(&c));
    let e = &c.evidence;
    assert_eq!(e.calls, CALLS);
    assert!(e.new_connections_per_call > 0.95, "{}", show(&c));
    assert!(e.single_use_fraction > 0.95, "{}", show(&c));
    assert!(e.closed_by_client_fraction > 0.95, "{}", show(&c));
    // The evidence behind the label: either each close follows its own answer (spread like
    // the answers, not bunched at the burst's end), or — when the starved test runtime reads
    // answers late and the clients linger — new connections were opened beside idle ones
    // that no pool would have left unused. Which of the two shows depends on scheduling on
    // a loaded 2-core box; one of them always must.
    let closes_track_answers = e.closes_at_burst_end_fraction.expect("closes") < 0.5
        && e.close_clustering_ratio.expect("closes") < 4.0
        && e.median_close_delay_ms.expect("closes") < e.answer_spread_ms;
    let missed_reuse = e.new_connections_despite_idle_fraction.unwrap_or(0.0) >= 0.5;
    assert!(closes_track_answers || missed_reuse, "{}", show(&c));
    assert!(e.answer_spread_ms > 40.0, "jitter visible: {}", show(&c));
    assert!(e.max_open_connections > 100, "unbounded: {}", show(&c));
    assert!(
        e.max_calls_in_flight.expect("detail kept") > 100,
        "unbounded: {}",
        show(&c)
    );
}
