//! What the ledger front costs, measured side by side with bare wiremock:
//! a bounded load run (not criterion) that runs the targets in turn, round by
//! round, so that drift on a shared box (hypervisor steal reaches 30% here)
//! hits all alike, and reports each round's throughput ratio to bare
//! wiremock, its median, and what a request costs the process in CPU and page
//! faults.
//!
//! Four targets serve the same responder to the same keep-alive driver:
//! - **bare**: one wiremock server, as a test would use it directly;
//! - **bare ×2**: two wiremock servers with the driver's connections split
//!   between them (no front): the stub serves from two servers side by side,
//!   and this says what that alone is worth, so the hop and the ledger can be
//!   costed at an equal number of server threads;
//! - **relay**: the bare server behind a plain TCP relay (no parsing, no
//!   ledger): the extra loopback hop alone, which any front must pay since
//!   wiremock's `Request` carries no peer address;
//! - **front**: the stub (ledger front and its two wiremock servers).
//!
//! The bare servers are reset before each of their rounds (outside the timed
//! part), so every round starts fresh. Two run lengths are measured, because
//! bare wiremock slows down as it runs: it keeps a copy of every request it
//! matched (recording off or not), which costs memory and page faults. The
//! stub resets its servers in turn as it goes; that work is inside what is
//! measured.
//!
//! - `short`: 5 000 requests per round, before bare wiremock's copies add up:
//!   what the hop and the ledger cost;
//! - `long`: 100 000 requests per round (the size of the stub's flat-memory
//!   test): what a long run sees.
//!
//! `cargo bench -p omdb-stub --bench front_overhead` (about a minute; every
//! round is bounded by a 120 s timeout).

#[path = "../tests/common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use omdb_stub::{OmdbResponder, OmdbStub, StubConfig, reset_wiremock, start_wiremock};
use wiremock::MockServer;

/// Keep-alive connections driving the load (as in `stub_keepalive`).
const CONNECTIONS: u64 = 32;
/// Hard bound on one round.
const ROUND_TIMEOUT: Duration = Duration::from_secs(120);
/// (name, requests per round, sets of one round per target).
const PHASES: [(&str, u64, usize); 2] = [("short", 5_000, 15), ("long", 100_000, 3)];

/// One timed round against one target.
#[derive(Debug, Clone, Copy)]
struct Round {
    requests_per_second: f64,
    cpu_us_per_request: f64,
    faults_per_request: f64,
}

/// CPU time (user + system) and minor page faults of this whole process:
/// driver, front and wiremock threads.
fn process_usage() -> (Duration, u64) {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` is a valid, writable rusage; RUSAGE_SELF is always valid.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    assert_eq!(rc, 0, "getrusage failed");
    // SAFETY: getrusage returned 0, so it filled the struct.
    let usage = unsafe { usage.assume_init() };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (
        tv(usage.ru_utime) + tv(usage.ru_stime),
        usage.ru_minflt as u64,
    )
}

/// Sends `total` requests (a multiple of `CONNECTIONS`) over fresh keep-alive
/// connections spread over `addrs`; every answer must be a 200.
async fn round(addrs: &[SocketAddr], paths: &Arc<Vec<String>>, total: u64) -> Round {
    let per_conn = total.div_ceil(CONNECTIONS);
    let sent = per_conn * CONNECTIONS;
    let (cpu_before, faults_before) = process_usage();
    let started = Instant::now();
    let all = common::keepalive_load(addrs, paths, CONNECTIONS, per_conn);
    tokio::time::timeout(ROUND_TIMEOUT, all)
        .await
        .expect("a round took longer than its 120 s bound");
    let wall = started.elapsed();
    let (cpu_after, faults_after) = process_usage();
    Round {
        requests_per_second: sent as f64 / wall.as_secs_f64(),
        cpu_us_per_request: (cpu_after - cpu_before).as_secs_f64() * 1e6 / sent as f64,
        faults_per_request: (faults_after - faults_before) as f64 / sent as f64,
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// A plain TCP relay to `to` (tokio's `copy_bidirectional`, no HTTP parsing,
/// no ledger): the cost of the extra loopback hop alone, which any front
/// that sees connections must pay because wiremock's `Request` carries no
/// peer address.
async fn plain_relay(to: SocketAddr) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the relay");
    let addr = listener.local_addr().expect("relay address");
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = client.set_nodelay(true);
                if let Ok(mut upstream) = tokio::net::TcpStream::connect(to).await {
                    let _ = upstream.set_nodelay(true);
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                }
            });
        }
    });
    addr
}

/// The targets under comparison.
struct Targets {
    /// Two bare servers: the first also serves alone and behind the relay.
    bare: [MockServer; 2],
    responder: OmdbResponder,
    relay: SocketAddr,
    stub: OmdbStub,
    paths: Arc<Vec<String>>,
}

/// Which target a round runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Bare,
    BarePair,
    Relay,
    Front,
}

/// Every target, in the order of the table's columns.
const TARGETS: [Target; 4] = [Target::Bare, Target::BarePair, Target::Relay, Target::Front];

/// The median of the paired ratios `x / base`, with their range.
fn paired(x: &[Round], base: &[Round]) -> (f64, f64, f64) {
    let ratios: Vec<f64> = x
        .iter()
        .zip(base)
        .map(|(x, b)| x.requests_per_second / b.requests_per_second)
        .collect();
    let low = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let high = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (median(ratios), low, high)
}

fn verdict(ratio: f64, of: &str) -> String {
    if ratio >= 1.0 {
        format!("{:.1}% faster than {of}", (ratio - 1.0) * 100.0)
    } else {
        format!("costs {:.1}% of {of}'s throughput", (1.0 - ratio) * 100.0)
    }
}

impl Targets {
    /// One round; the bare servers in use are reset first.
    async fn round(&self, target: Target, requests: u64) -> Round {
        let used = match target {
            Target::Bare | Target::Relay => &self.bare[..1],
            Target::BarePair => &self.bare[..],
            Target::Front => &[],
        };
        for server in used {
            reset_wiremock(server, &self.responder).await;
        }
        let addrs = match target {
            Target::Bare => vec![*self.bare[0].address()],
            Target::BarePair => self.bare.iter().map(|s| *s.address()).collect(),
            Target::Relay => vec![self.relay],
            Target::Front => vec![self.stub.addr()],
        };
        round(&addrs, &self.paths, requests).await
    }

    /// Runs `sets` sets of one round per target (in a rotating order, so
    /// none always runs in another's wake) and prints them with a summary.
    async fn phase(&self, name: &str, requests: u64, sets: usize) {
        println!(
            "\n{name}: {sets} sets of {requests} requests per target, \
             {CONNECTIONS} keep-alive connections"
        );
        println!(
            "{:>4}  {:>10}  {:>10}  {:>10}  {:>10}  {:>10}  {:>10}",
            "set", "bare req/s", "bare ×2", "relay", "front", "front/bare", "relay/bare"
        );
        let mut rounds: [Vec<Round>; 4] = Default::default();
        for set in 0..sets {
            let mut this = [None; 4];
            for k in 0..TARGETS.len() {
                let i = (set + k) % TARGETS.len();
                this[i] = Some(self.round(TARGETS[i], requests).await);
            }
            let [b, p, r, f] = this.map(|x| x.expect("every target ran"));
            println!(
                "{:>4}  {:>10.0}  {:>10.0}  {:>10.0}  {:>10.0}  {:>10.3}  {:>10.3}",
                set + 1,
                b.requests_per_second,
                p.requests_per_second,
                r.requests_per_second,
                f.requests_per_second,
                f.requests_per_second / b.requests_per_second,
                r.requests_per_second / b.requests_per_second,
            );
            for (all, one) in rounds.iter_mut().zip([b, p, r, f]) {
                all.push(one);
            }
        }
        let [bare, pair, relay, front] = &rounds;
        let of = |x: &[Round], f: fn(&Round) -> f64| median(x.iter().map(f).collect());
        let rps = |x: &[Round]| of(x, |r| r.requests_per_second);
        let cpu = |x: &[Round]| of(x, |r| r.cpu_us_per_request);
        let faults = |x: &[Round]| of(x, |r| r.faults_per_request);
        println!(
            "{name}: medians: bare wiremock {:.0} req/s, two bare servers {:.0} req/s, \
             plain relay {:.0} req/s, ledger front {:.0} req/s",
            rps(bare),
            rps(pair),
            rps(relay),
            rps(front)
        );
        for (what, x, base, base_name) in [
            ("ledger front/bare", front, bare, "bare wiremock"),
            ("plain relay/bare", relay, bare, "bare wiremock"),
            ("ledger front/bare ×2", front, pair, "two bare servers"),
        ] {
            let (ratio, low, high) = paired(x, base);
            println!(
                "{name}: {what}, median of the paired rounds {ratio:.3} \
                 (range {low:.3}-{high:.3}): {}",
                verdict(ratio, base_name)
            );
        }
        let (ratio, low, high) = paired(front, relay);
        println!(
            "{name}: what the ledger and the HTTP framing add to the hop: front/relay, median of \
             the paired rounds {ratio:.3} (range {low:.3}-{high:.3}), CPU {:+.1} µs per request",
            cpu(front) - cpu(relay)
        );
        println!(
            "{name}: per request (whole process: driver + server side): CPU bare {:.1} µs, \
             bare ×2 {:.1} µs, relay {:.1} µs, front {:.1} µs; minor page faults bare {:.2}, \
             bare ×2 {:.2}, relay {:.2}, front {:.2}",
            cpu(bare),
            cpu(pair),
            cpu(relay),
            cpu(front),
            faults(bare),
            faults(pair),
            faults(relay),
            faults(front),
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench` (and any filter): nothing to parse.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let responder = OmdbResponder::new(StubConfig::default(), common::catalog());
        let bare = [
            start_wiremock(&responder).await.expect("bare wiremock"),
            start_wiremock(&responder)
                .await
                .expect("second bare wiremock"),
        ];
        let relay = plain_relay(*bare[0].address()).await;
        let targets = Targets {
            bare,
            responder,
            relay,
            stub: OmdbStub::start(
                StubConfig::default(),
                common::catalog(),
                "127.0.0.1:0".parse().expect("addr"),
            )
            .await
            .expect("stub"),
            paths: Arc::new(
                common::imdb_ids(3200)
                    .into_iter()
                    .map(|id| format!("/?apikey=bench&i={id}"))
                    .collect(),
            ),
        };
        // One untimed round each: connections, allocator, caches.
        for target in TARGETS {
            targets.round(target, 5_000).await;
        }
        for (name, requests, pairs) in PHASES {
            targets.phase(name, requests, pairs).await;
        }
        println!(
            "\nwiremock resets in the stub: {}",
            targets.stub.backend_resets()
        );
        let Targets { bare, stub, .. } = targets;
        let ledger = stub.shutdown().await;
        assert!(ledger.requests_total > 0, "the front saw no request");
        tokio::task::spawn_blocking(move || drop(bare))
            .await
            .expect("drop wiremock");
    });
}
