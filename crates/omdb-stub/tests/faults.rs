//! Faults at their configured rates (seeded, so the counts repeat), the
//! reset fault as a real TCP reset, API keys, determinism and rotation.

mod common;

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::time::Duration;

use common::RawClient;
use futures::StreamExt;
use omdb_stub::{ClosedBy, Faults, Latency, StubConfig};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Seen {
    Ok,
    NotFound,
    Http500,
    RateLimit,
    Malformed,
    Timeout,
    Reset,
}

fn kind(status: u16, body: &[u8]) -> Seen {
    let json: Result<serde_json::Value, _> = serde_json::from_slice(body);
    match (status, json) {
        (500, _) => Seen::Http500,
        (401, Ok(v)) if v["Error"] == "Request limit reached!" => Seen::RateLimit,
        (200, Err(_)) => Seen::Malformed,
        (200, Ok(v)) if v["Error"] == "Movie not found!" => Seen::NotFound,
        (200, Ok(v)) if v["Response"] == "True" => Seen::Ok,
        other => panic!("unexpected answer {other:?}"),
    }
}

/// One call with reqwest: classifies the outcome.
async fn outcome(client: &reqwest::Client, url: String) -> Seen {
    match client.get(url).send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            match resp.bytes().await {
                Ok(body) => kind(status, &body),
                Err(e) if e.is_timeout() => Seen::Timeout,
                Err(e) => panic!("body error {e:?}"),
            }
        }
        Err(e) if e.is_timeout() => Seen::Timeout,
        Err(e) => {
            let chain = format!("{e:?}");
            assert!(
                chain.contains("reset")
                    || chain.contains("IncompleteMessage")
                    || chain.contains("closed"),
                "unexpected error {chain}"
            );
            Seen::Reset
        }
    }
}

const P: f64 = 0.1;

fn faulty(seed: u64) -> StubConfig {
    StubConfig {
        seed,
        latency: Latency::Fixed { ms: 0 },
        faults: Faults {
            not_found: P,
            http_500: P,
            rate_limit: P,
            malformed_json: P,
            timeout: P,
            timeout_delay_ms: 4_000,
            reset: P,
        },
        ..StubConfig::default()
    }
}

async fn run_faulty(seed: u64, n: u64) -> (Vec<Seen>, omdb_stub::LedgerSnapshot) {
    let stub = common::start(faulty(seed)).await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(1000))
        .build()
        .expect("client");
    let base = stub.url();
    let ids = common::imdb_ids(n);
    // Bounded, so that only the timeout fault (4 s) can exceed the client's 1 s.
    let calls = futures::stream::iter(
        ids.iter()
            .map(|id| outcome(&client, format!("{base}/?apikey=k&i={id}"))),
    )
    .buffered(64)
    .collect::<Vec<_>>();
    let seen = tokio::time::timeout(Duration::from_secs(120), calls)
        .await
        .expect("calls finish");
    drop(client);
    (seen, stub.shutdown().await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_appears_at_its_rate_and_repeats_with_the_seed() {
    let _serial = common::serial().await;
    const N: u64 = 1000;
    let (seen, ledger) = run_faulty(5, N).await;
    let mut counts: HashMap<Seen, u64> = HashMap::new();
    for s in &seen {
        *counts.entry(*s).or_default() += 1;
    }
    eprintln!("{counts:?}");
    // Binomial(1000, 0.1): sd ~9.5; ±45 is over 4.5 sd.
    for k in [
        Seen::NotFound,
        Seen::Http500,
        Seen::RateLimit,
        Seen::Malformed,
        Seen::Timeout,
        Seen::Reset,
    ] {
        let c = counts.get(&k).copied().unwrap_or(0);
        assert!(
            (55..=145).contains(&c),
            "{k:?} seen {c} times in {N}: {counts:?}"
        );
    }
    let ok = counts.get(&Seen::Ok).copied().unwrap_or(0);
    assert!((300..=500).contains(&ok), "{counts:?}");
    // Resets are the stub closing the connection, unanswered.
    let server_closed = ledger
        .connections
        .iter()
        .filter(|c| c.closed_by == ClosedBy::Server)
        .count() as u64;
    assert_eq!(
        server_closed,
        counts[&Seen::Reset],
        "one reset per server close"
    );

    // Same seed, same keys: the same outcome for every key.
    let (again, _) = run_faulty(5, N).await;
    assert_eq!(seen, again, "seeded faults repeat");
}

fn raw_get(addr: std::net::SocketAddr, path: &str) -> std::io::Result<Vec<u8>> {
    let mut s = std::net::TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(s, "GET {path} HTTP/1.1\r\nhost: x\r\n\r\n")?;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                if out.windows(4).any(|w| w == b"\r\n\r\n") {
                    return Ok(out);
                }
            }
            Err(e) => return Err(e),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_fault_is_a_tcp_reset() {
    let config = StubConfig {
        faults: Faults {
            reset: 1.0,
            ..Faults::default()
        },
        ..StubConfig::default()
    };
    let stub = common::start(config).await;
    let addr = stub.addr();
    let id = common::imdb_ids(1).remove(0);
    let result = tokio::task::spawn_blocking(move || raw_get(addr, &format!("/?apikey=k&i={id}")))
        .await
        .expect("join");
    let err = result.expect_err("no answer, a reset");
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err:?}");
    let ledger = stub.shutdown().await;
    assert_eq!(ledger.connections.len(), 1);
    let c = &ledger.connections[0];
    assert_eq!((c.closed_by, c.requests_carried), (ClosedBy::Server, 1));
    assert_eq!(c.requests[0].answered_at_ms, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_key_and_error_bodies_match_omdb() {
    let config = StubConfig {
        api_key: Some("secret".into()),
        ..StubConfig::default()
    };
    let stub = common::start(config).await;
    let mut c = RawClient::connect(stub.addr()).await.expect("connect");
    let id = common::imdb_ids(1).remove(0);
    let (status, body) = c.get(&format!("/?apikey=wrong&i={id}")).await.expect("get");
    assert_eq!(
        (status, body.as_slice()),
        (
            401,
            br#"{"Response":"False","Error":"Invalid API key!"}"#.as_slice()
        )
    );
    let (status, body) = c.get("/?apikey=secret&i=tt0000000").await.expect("get");
    assert_eq!(
        (status, body.as_slice()),
        (
            200,
            br#"{"Response":"False","Error":"Movie not found!"}"#.as_slice()
        )
    );
    let (status, body) = c.get("/?apikey=secret").await.expect("get");
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("\"Response\":\"False\""));
    let (status, body) = c
        .get(&format!("/?apikey=secret&i={id}"))
        .await
        .expect("get");
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
    for field in [
        "Title",
        "Year",
        "Rated",
        "Released",
        "Runtime",
        "Genre",
        "Director",
        "Writer",
        "Actors",
        "Plot",
        "Language",
        "Country",
        "Awards",
        "Poster",
        "Ratings",
        "Metascore",
        "imdbRating",
        "imdbVotes",
        "imdbID",
        "Type",
        "DVD",
        "BoxOffice",
        "Production",
        "Website",
        "Response",
    ] {
        assert!(v.get(field).is_some(), "missing {field}");
    }
    assert_eq!(v["imdbID"], id.as_str());
    assert!(
        (600..2000).contains(&body.len()),
        "~1 KB body, got {}",
        body.len()
    );
    // By title too, case-insensitively as OMDB does.
    let title = v["Title"]
        .as_str()
        .expect("title")
        .to_lowercase()
        .replace(' ', "+");
    let (status, body2) = c
        .get(&format!("/?apikey=secret&t={title}"))
        .await
        .expect("get");
    assert_eq!((status, body2), (200, body));
    let ledger = stub.shutdown().await;
    assert_eq!(ledger.connections.len(), 1, "one keep-alive connection");
    assert_eq!(ledger.connections[0].requests_carried, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_gets_the_headers_of_a_get_and_no_body() {
    let stub = common::start(StubConfig::default()).await;
    let id = &common::imdb_ids(1)[0];
    let url = format!("{}/?apikey=k&i={id}", stub.url());
    let client = reqwest::Client::new();
    let get = client.get(&url).send().await.expect("GET");
    let length = |r: &reqwest::Response| r.headers().get("content-length").cloned();
    let get_len = length(&get).expect("GET content-length");
    let head = client.head(&url).send().await.expect("HEAD");
    assert_eq!(head.status().as_u16(), 200, "HEAD is answered like GET");
    assert_eq!(length(&head), Some(get_len));
    assert!(head.bytes().await.expect("HEAD body").is_empty());
    // The keep-alive connection still works after a HEAD (no stray body).
    let again = client.get(&url).send().await.expect("GET after HEAD");
    assert_eq!(again.status().as_u16(), 200);
    assert_eq!(stub.shutdown().await.requests_total, 3);
}

/// Reads from `conn` into `seen` until `want` final (200) answers have fully arrived.
async fn read_answers(want: usize, seen: &mut Vec<u8>, conn: &mut tokio::net::TcpStream) {
    use tokio::io::AsyncReadExt;
    let finals = |b: &[u8]| String::from_utf8_lossy(b).matches("HTTP/1.1 200").count();
    while finals(seen) < want || !seen.ends_with(b"}") {
        let mut chunk = [0u8; 8192];
        let n = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut chunk))
            .await
            .unwrap_or_else(|_| panic!("no final answer in 5 s: {}", String::from_utf8_lossy(seen)))
            .expect("read");
        assert!(n > 0, "closed: {}", String::from_utf8_lossy(seen));
        seen.extend_from_slice(&chunk[..n]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expect_100_continue_gets_its_final_answer_and_the_connection_stays_in_step() {
    use tokio::io::AsyncWriteExt;
    let stub = common::start(StubConfig::default()).await;
    let id = &common::imdb_ids(1)[0];
    let mut conn = tokio::net::TcpStream::connect(stub.addr())
        .await
        .expect("connect");
    let post = format!(
        "POST /?apikey=k&i={id} HTTP/1.1\r\nhost: omdb\r\nexpect: 100-continue\r\n\
         content-length: 3\r\n\r\nabc"
    );
    let get = format!("GET /?apikey=k&i={id} HTTP/1.1\r\nhost: omdb\r\n\r\n");
    // Both answers on one keep-alive connection, the interim one first.
    conn.write_all(post.as_bytes()).await.expect("POST");
    let mut seen = Vec::new();
    read_answers(1, &mut seen, &mut conn).await;
    assert!(
        seen.starts_with(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200"),
        "the interim answer is relayed, then the final one: {}",
        String::from_utf8_lossy(&seen)
    );
    conn.write_all(get.as_bytes()).await.expect("GET");
    read_answers(2, &mut seen, &mut conn).await;
    let text = String::from_utf8_lossy(&seen);
    assert_eq!(text.matches("\"Response\":\"True\"").count(), 2, "{text}");
    drop(conn);
    let ledger = stub.shutdown().await;
    assert_eq!(ledger.requests_total, 2, "one call each");
    assert_eq!(ledger.connections.len(), 1);
    assert_eq!(ledger.connections[0].requests_carried, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_never_answers_404_and_resets_backends() {
    let config = StubConfig {
        rotate_after_requests: 7,
        latency: Latency::Uniform {
            min_ms: 0,
            max_ms: 3,
        },
        ..StubConfig::default()
    };
    let stub = common::start(config).await;
    let ids = common::imdb_ids(50);
    let addr = stub.addr();
    let mut workers = Vec::new();
    for w in 0..8 {
        let ids = ids.clone();
        workers.push(tokio::spawn(async move {
            let mut c = RawClient::connect(addr).await.expect("connect");
            for i in 0..100 {
                let id = &ids[(w * 13 + i) % ids.len()];
                let (status, _) = c.get(&format!("/?apikey=k&i={id}")).await.expect("get");
                assert_eq!(status, 200, "no 404 while rotating");
            }
        }));
    }
    for w in workers {
        tokio::time::timeout(Duration::from_secs(60), w)
            .await
            .expect("in time")
            .expect("worker ok");
    }
    assert_eq!(stub.requests_served(), 800);
    assert!(
        stub.backend_resets() > 20,
        "resets: {}",
        stub.backend_resets()
    );
    // The workers dropped their connections; let the front see every EOF (bounded).
    for _ in 0..500 {
        if stub.open_connections() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let ledger = stub.shutdown().await;
    assert_eq!(ledger.connections.len(), 8);
    assert!(
        ledger
            .connections
            .iter()
            .all(|c| c.closed_by == ClosedBy::Client)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledger_endpoint_serves_json_and_is_not_a_call() {
    let stub = common::start(StubConfig::default()).await;
    let mut c = RawClient::connect(stub.addr()).await.expect("connect");
    let id = common::imdb_ids(1).remove(0);
    c.get(&format!("/?apikey=k&i={id}")).await.expect("get");
    let (status, body) = c.get(omdb_stub::LEDGER_PATH).await.expect("ledger");
    assert_eq!(status, 200);
    let snap: omdb_stub::LedgerSnapshot = serde_json::from_slice(&body).expect("snapshot json");
    assert_eq!(snap.requests_total, 1);
    assert_eq!(snap.connections[0].control_requests, 1);
    let (status, body) = c.get(omdb_stub::CLASSIFY_PATH).await.expect("classify");
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("inconclusive"));
    stub.shutdown().await;
}

#[tokio::test]
async fn refuses_non_loopback() {
    let err = omdb_stub::OmdbStub::start(
        StubConfig::default(),
        common::catalog(),
        "0.0.0.0:0".parse().expect("addr"),
    )
    .await
    .err()
    .expect("refused");
    assert!(err.to_string().contains("loopback"), "{err}");
}
