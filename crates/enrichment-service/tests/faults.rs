//! Upstream faults degrade the answer (`omdb: null` + a short error) but never fail it.

mod common;

use std::io::ErrorKind;
use std::time::Duration;

use common::{
    SECRET_KEY, fixture, get_text, metric, metrics, serve_in_process, upstream_answering,
};
use serde_json::Value;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const MOVIES: usize = 4;

/// Calls `/movies` against `upstream_url` and checks the degraded 200; returns the errors.
async fn degraded(upstream_url: &str, extra: &[&str], kind: &str) -> Vec<String> {
    degraded_as(upstream_url, extra, &[kind]).await
}

/// Like [`degraded`], for a fault whose class depends on timing (any of `kinds`).
async fn degraded_as(upstream_url: &str, extra: &[&str], kinds: &[&str]) -> Vec<String> {
    let kind = kinds.join("|");
    let db = fixture(MOVIES as u64);
    let service = serve_in_process(upstream_url, &db.path, extra).await;
    let (status, text) = get_text(&format!("{}/movies?limit={MOVIES}", service.base)).await;
    assert_eq!(status, 200, "{kind}: {text}");
    assert!(!text.contains(SECRET_KEY), "{kind}: key leaked in {text}");
    let body: Value = serde_json::from_str(&text).expect("JSON");
    let movies = body.as_array().expect("array");
    assert_eq!(movies.len(), MOVIES, "{kind}");
    let errors: Vec<String> = movies
        .iter()
        .map(|m| {
            assert!(m["omdb"].is_null(), "{kind}: {m}");
            assert!(m["title"].is_string(), "{kind}: rows still served: {m}");
            m["omdb_error"]
                .as_str()
                .expect("omdb_error is a string")
                .to_owned()
        })
        .collect();
    assert!(
        errors.iter().all(|e| !e.is_empty() && e.len() < 200),
        "{kind}: {errors:?}"
    );
    let text = metrics(&service.base).await;
    let counted: f64 = kinds
        .iter()
        .map(|k| {
            metric(
                &text,
                &format!("enrichment_omdb_errors_total{{kind=\"{k}\"}}"),
            )
        })
        .sum();
    assert_eq!(counted, MOVIES as f64, "{kind}: {text}");
    errors
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout() {
    let upstream =
        upstream_answering(ResponseTemplate::new(200).set_delay(Duration::from_secs(3))).await;
    let errors = degraded(&upstream.uri(), &["--omdb-timeout-ms", "200"], "timeout").await;
    assert_eq!(errors[0], "timeout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_error() {
    let upstream = upstream_answering(ResponseTemplate::new(503).set_body_string("down")).await;
    let errors = degraded(&upstream.uri(), &[], "http_5xx").await;
    assert_eq!(errors[0], "HTTP 503");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_error_with_omdb_message() {
    let body = serde_json::json!({"Response": "False", "Error": "Invalid API key!"});
    let upstream = upstream_answering(ResponseTemplate::new(401).set_body_json(body)).await;
    let errors = degraded(&upstream.uri(), &[], "http_4xx").await;
    assert_eq!(errors[0], "HTTP 401: Invalid API key!");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_false() {
    let body = serde_json::json!({"Response": "False", "Error": "Movie not found!"});
    let upstream = upstream_answering(ResponseTemplate::new(200).set_body_json(body)).await;
    let errors = degraded(&upstream.uri(), &[], "response_false").await;
    assert_eq!(errors[0], "omdb: Movie not found!");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json() {
    let upstream = upstream_answering(
        ResponseTemplate::new(200).set_body_raw("{\"Title\": \"Trunc", "application/json"),
    )
    .await;
    let errors = degraded(&upstream.uri(), &[], "malformed").await;
    assert!(errors[0].starts_with("malformed response: "), "{errors:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_without_response_field() {
    let upstream =
        upstream_answering(ResponseTemplate::new(200).set_body_json(serde_json::json!([1, 2])))
            .await;
    degraded(&upstream.uri(), &[], "malformed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_reset_by_wiremock() {
    let upstream = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with_err(|_: &wiremock::Request| std::io::Error::from(ErrorKind::ConnectionReset))
        .mount(&upstream)
        .await;
    let errors = degraded(&upstream.uri(), &[], "transport").await;
    assert!(errors[0].starts_with("transport error: "), "{errors:?}");
}

/// A raw listener that accepts and closes with SO_LINGER 0: the kernel sends RST.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_reset_by_rst() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let acceptor = tokio::spawn(async move {
        // Bounded: one connection per movie at most, plus slack.
        for _ in 0..(MOVIES * 4) {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            // Wait until the request arrived so the RST hits it mid-exchange.
            let _ = stream.readable().await;
            if let Ok(std_stream) = stream.into_std() {
                // SO_LINGER 0 turns close() into an RST (std has no stable setter).
                let _ = socket_linger_zero(&std_stream);
            }
        }
    });
    // Whether the RST is seen as a failed connect or a broken exchange is a race.
    let errors = degraded_as(&format!("http://{addr}"), &[], &["transport", "connect"]).await;
    assert!(
        errors
            .iter()
            .all(|e| e.starts_with("transport error: ") || e.starts_with("connect failed: ")),
        "{errors:?}"
    );
    acceptor.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_refused() {
    // Bind then drop: the port is (very likely) closed for the test's duration.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    let errors = degraded(&format!("http://{addr}"), &[], "connect").await;
    assert!(errors[0].starts_with("connect failed: "), "{errors:?}");
}

fn socket_linger_zero(stream: &std::net::TcpStream) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt on a valid, owned socket fd with a correctly sized value.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
