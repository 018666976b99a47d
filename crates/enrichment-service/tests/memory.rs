//! THE incident test: one `/movies?limit=1000` with a client per movie drives
//! the real process past 512 MiB peak RSS; the shared client stays far below.
//!
//! Both measurements run in one test function, one after the other, so no
//! other service process shares the machine's attention or the numbers.

mod common;

use std::time::{Duration, Instant};

use common::{SECRET_KEY, Service, fixture, get_json, healthy_upstream, metric, metrics};

const MIB: u64 = 1024;

struct Run {
    vm_hwm_kib: u64,
    elapsed: Duration,
    built: f64,
    alive_max: f64,
    failed: usize,
}

async fn one_request(strategy: &str, upstream: &str, db: &str, timeout_ms: &str) -> Run {
    let service = Service::spawn(
        &[
            "--port",
            "0",
            "--http-client",
            strategy,
            "--omdb-timeout-ms",
            timeout_ms,
        ],
        &[
            ("OMDB_BASE_URL", upstream),
            ("OMDB_API_KEY", SECRET_KEY),
            ("DATABASE_PATH", db),
        ],
    );
    let started = Instant::now();
    let (status, body) = get_json(&format!("{}/movies?limit=1000", service.base)).await;
    let elapsed = started.elapsed();
    assert_eq!(status, 200);
    let movies = body.as_array().expect("array");
    assert_eq!(movies.len(), 1000);
    let failed = movies.iter().filter(|m| m["omdb"].is_null()).count();
    let text = metrics(&service.base).await;
    // Read the kernel's peak before the guard kills the process.
    let vm_hwm_kib = service.status_kib("VmHWM");
    Run {
        vm_hwm_kib,
        elapsed,
        built: metric(&text, "enrichment_http_clients_built_total"),
        alive_max: metric(&text, "enrichment_http_clients_alive_max"),
        failed,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_movie_clients_exceed_512_mib_and_a_shared_client_stays_under_128_mib() {
    let db = fixture(1000);
    let db_path = db.path.display().to_string();
    let upstream = healthy_upstream(Duration::from_millis(100)).await;
    // Builds serialize on the request's task (~90 ms CPU each), so a generous
    // per-call timeout keeps every movie enriched; the peak does not depend on it.
    let timeout_ms = "600000";

    let per_movie = one_request("per-movie", &upstream.uri(), &db_path, timeout_ms).await;
    eprintln!(
        "per-movie: VmHWM {} MiB, /movies?limit=1000 took {:.1} s, clients built {}, \
         max alive at once {}, omdb failures {}",
        per_movie.vm_hwm_kib / MIB,
        per_movie.elapsed.as_secs_f64(),
        per_movie.built,
        per_movie.alive_max,
        per_movie.failed
    );
    let shared = one_request("shared", &upstream.uri(), &db_path, timeout_ms).await;
    eprintln!(
        "shared:    VmHWM {} MiB, /movies?limit=1000 took {:.1} s, clients built {}, \
         max alive at once {}, omdb failures {}",
        shared.vm_hwm_kib / MIB,
        shared.elapsed.as_secs_f64(),
        shared.built,
        shared.alive_max,
        shared.failed
    );

    assert_eq!(per_movie.built, 1000.0, "one client per movie");
    assert_eq!(
        per_movie.alive_max, 1000.0,
        "all per-movie clients alive at once"
    );
    assert_eq!(per_movie.failed, 0);
    assert!(
        per_movie.vm_hwm_kib > 512 * MIB,
        "per-movie peak {} MiB should exceed 512 MiB",
        per_movie.vm_hwm_kib / MIB
    );
    assert_eq!(shared.built, 1.0);
    assert_eq!(shared.failed, 0);
    assert!(
        shared.vm_hwm_kib < 128 * MIB,
        "shared-client peak {} MiB should stay under 128 MiB",
        shared.vm_hwm_kib / MIB
    );
}
