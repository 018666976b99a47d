//! Helpers shared by the integration tests: a stub on loopback, the fixture
//! ids, a lock that keeps the heavy tests from running at the same time, and
//! a bare keep-alive HTTP/1.1 client.

#![allow(dead_code)]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::{StreamExt, stream};
use omdb_stub::{Classification, Latency};

use movie_fixtures::Catalog;
use omdb_stub::{OmdbStub, StubConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Heavy tests (1000 connections each) run one at a time (an async lock:
/// each test has its own runtime, and the guard is held across awaits).
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

pub fn catalog() -> Arc<Catalog> {
    static CATALOG: OnceLock<Arc<Catalog>> = OnceLock::new();
    Arc::clone(CATALOG.get_or_init(|| Arc::new(Catalog::embedded().expect("embedded catalog"))))
}

/// The first `n` fixture IMDB ids.
pub fn imdb_ids(n: u64) -> Vec<String> {
    catalog().rows(n).map(|m| m.imdb_id).collect()
}

pub async fn start(config: StubConfig) -> OmdbStub {
    OmdbStub::start(config, catalog(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("stub starts")
}

/// One keep-alive connection speaking just enough HTTP/1.1.
pub struct RawClient {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl RawClient {
    pub async fn connect(addr: std::net::SocketAddr) -> std::io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buf: Vec::with_capacity(4096),
        })
    }

    /// Sends `GET path` and returns (status, body).
    pub async fn get(&mut self, path: &str) -> std::io::Result<(u16, Vec<u8>)> {
        let req = format!("GET {path} HTTP/1.1\r\nhost: omdb\r\n\r\n");
        self.stream.write_all(req.as_bytes()).await?;
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut resp = httparse::Response::new(&mut headers);
            if let httparse::Status::Complete(len) = resp
                .parse(&self.buf)
                .map_err(|e| std::io::Error::other(e.to_string()))?
            {
                let status = resp.code.unwrap_or(0);
                let body_len: usize = resp
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                    .and_then(|h| std::str::from_utf8(h.value).ok()?.trim().parse().ok())
                    .ok_or_else(|| std::io::Error::other("no content-length"))?;
                while self.buf.len() < len + body_len {
                    self.read_more().await?;
                }
                let body = self.buf[len..len + body_len].to_vec();
                self.buf.drain(..len + body_len);
                return Ok((status, body));
            }
            self.read_more().await?;
        }
    }

    async fn read_more(&mut self) -> std::io::Result<()> {
        self.buf.reserve(8192);
        let n = tokio::time::timeout(Duration::from_secs(30), self.stream.read_buf(&mut self.buf))
            .await
            .map_err(|_| std::io::Error::other("read timed out"))??;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }
}

/// Sends `per_conn` GETs on each of `connections` fresh keep-alive connections
/// (connection `c` to `addrs[c % addrs.len()]`), each connection walking
/// `paths` from its own offset; every answer must be a 200.
pub async fn keepalive_load(
    addrs: &[std::net::SocketAddr],
    paths: &Arc<Vec<String>>,
    connections: u64,
    per_conn: u64,
) {
    let mut tasks = Vec::new();
    for c in 0..connections {
        let paths = Arc::clone(paths);
        let addr = addrs[c as usize % addrs.len()];
        tasks.push(tokio::spawn(async move {
            let mut client = RawClient::connect(addr).await.expect("connect");
            for i in 0..per_conn {
                let path = &paths[((c * 977 + i) as usize) % paths.len()];
                let (status, _) = client.get(path).await.expect("get");
                assert_eq!(status, 200, "{path}");
            }
        }));
    }
    for t in tasks {
        t.await.expect("load task");
    }
}

/// Resident set size of this process, from /proc/self/status.
pub fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS line")
}

pub const CALLS: u64 = 1000;
pub const BURST_TIMEOUT: Duration = Duration::from_secs(120);
/// Idle time between bursts: well above the classifier's 300 ms gap.
pub const PAUSE: Duration = Duration::from_millis(1000);

pub fn jittery() -> StubConfig {
    StubConfig {
        seed: 11,
        latency: Latency::Uniform {
            min_ms: 20,
            max_ms: 120,
        },
        ..StubConfig::default()
    }
}

pub fn new_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .tls_built_in_root_certs(false)
        .build()
        .expect("client")
}

pub async fn call(client: &reqwest::Client, base: &str, id: &str) {
    let resp = client
        .get(format!("{base}/?apikey=test&i={id}"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    let body = resp.bytes().await.expect("body");
    assert!(body.starts_with(b"{\"Title\""), "OMDB body");
}

/// Runs one burst: every id once, at most `limit` in flight (None = all).
pub async fn burst<F, Fut>(ids: &[String], limit: Option<usize>, f: F)
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let work =
        stream::iter(ids.iter().cloned().map(f)).buffer_unordered(limit.unwrap_or(ids.len()));
    tokio::time::timeout(BURST_TIMEOUT, work.collect::<Vec<()>>())
        .await
        .expect("burst finished in time");
}

/// Waits (bounded) until no connection is open or `timeout` passes.
pub async fn settle(stub: &omdb_stub::OmdbStub, timeout: Duration) {
    let deadline = tokio::time::Instant::now() + timeout;
    while stub.open_connections() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
}

pub fn show(c: &Classification) -> String {
    format!("{}: {}\n{:#?}", c.strategy, c.explanation, c.evidence)
}
