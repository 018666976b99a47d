//! The real binary: start-up failures, the listening line, secrets, shutdown.

mod common;

use std::time::Duration;

use common::{SECRET_KEY, Service, fixture, get_text, run_to_exit, upstream_answering};
use wiremock::ResponseTemplate;

#[test]
fn missing_database_fails_at_start_with_a_clear_message() {
    let (code, output) = run_to_exit(
        &[
            "--port",
            "0",
            "--omdb-base-url",
            "http://127.0.0.1:9",
            "--database-path",
            "/nonexistent/movies.sqlite",
        ],
        &[("OMDB_API_KEY", SECRET_KEY)],
    );
    assert_eq!(code, Some(1), "{output}");
    assert!(
        output.contains("/nonexistent/movies.sqlite") && output.contains("does not exist"),
        "{output}"
    );
    assert!(!output.contains(SECRET_KEY), "{output}");
}

#[test]
fn database_without_movies_table_or_not_sqlite_fails_at_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let empty = dir.path().join("empty.sqlite");
    rusqlite::Connection::open(&empty)
        .and_then(|c| c.execute_batch("CREATE TABLE other (x INTEGER)"))
        .expect("empty db");
    let garbage = dir.path().join("garbage.sqlite");
    std::fs::write(&garbage, vec![b'x'; 4096]).expect("garbage");
    for (db, expected) in [
        (&empty, "no usable `movies` table"),
        (&garbage, "cannot read database"),
    ] {
        let db = db.display().to_string();
        let (code, output) = run_to_exit(
            &[
                "--port",
                "0",
                "--omdb-base-url",
                "http://127.0.0.1:9",
                "--database-path",
                &db,
            ],
            &[],
        );
        assert_eq!(code, Some(1), "{output}");
        assert!(
            output.contains(expected) && output.contains(&db),
            "{output}"
        );
    }
}

#[test]
fn configuration_comes_from_the_environment_and_the_log_shows_the_real_port() {
    let db = fixture(3);
    let db_path = db.path.display().to_string();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let upstream = runtime.block_on(upstream_answering(ResponseTemplate::new(500)));
    let service = Service::spawn(
        &[],
        &[
            ("PORT", "0"),
            ("OMDB_BASE_URL", &upstream.uri()),
            ("DATABASE_PATH", &db_path),
            ("HTTP_CLIENT", "per-request"),
        ],
    );
    assert!(
        service.base.starts_with("http://127.0.0.1:"),
        "{}",
        service.base
    );
    assert!(
        service
            .output()
            .contains(&format!("listening on {}", service.base))
    );
    let (status, _) = runtime.block_on(get_text(&format!("{}/healthz", service.base)));
    assert_eq!(status, 200);
}

/// The key is in every upstream URL; it must not reach the response, the logs
/// (even at trace level) or `/metrics`, whatever goes wrong upstream.
#[test]
fn api_key_never_appears_in_any_output() {
    let db = fixture(5);
    let db_path = db.path.display().to_string();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let slow = runtime.block_on(upstream_answering(
        ResponseTemplate::new(200).set_delay(Duration::from_secs(2)),
    ));
    let failing = runtime.block_on(upstream_answering(
        ResponseTemplate::new(401)
            .set_body_string("{\"Response\":\"False\",\"Error\":\"Invalid API key!\"}"),
    ));
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    for upstream in [slow.uri(), failing.uri(), format!("http://{closed}")] {
        let service = Service::spawn(
            &[
                "--port",
                "0",
                "--omdb-timeout-ms",
                "300",
                "--http-client",
                "per-movie",
            ],
            &[
                ("OMDB_BASE_URL", &upstream),
                ("OMDB_API_KEY", SECRET_KEY),
                ("DATABASE_PATH", &db_path),
                ("RUST_LOG", "trace"),
            ],
        );
        let (status, body) =
            runtime.block_on(get_text(&format!("{}/movies?limit=5", service.base)));
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("omdb_error\":\""), "{body}");
        let (_, metrics) = runtime.block_on(get_text(&format!("{}/metrics", service.base)));
        let (_, bad) = runtime.block_on(get_text(&format!("{}/movies?limit=x", service.base)));
        std::thread::sleep(Duration::from_millis(200));
        let logs = service.output();
        assert!(logs.contains("GET /movies"), "trace logging is on: {logs}");
        for (what, text) in [
            ("body", &body),
            ("metrics", &metrics),
            ("400", &bad),
            ("logs", &logs),
        ] {
            assert!(
                !text.contains(SECRET_KEY),
                "key leaked in {what} for {upstream}:\n{text}"
            );
        }
    }
}

#[test]
fn sigterm_shuts_down_gracefully() {
    let db = fixture(3);
    let db_path = db.path.display().to_string();
    let mut service = Service::spawn(
        &[
            "--port",
            "0",
            "--omdb-base-url",
            "http://127.0.0.1:9",
            "--database-path",
            &db_path,
        ],
        &[],
    );
    service.terminate();
    let status = service
        .wait_exit(Duration::from_secs(30))
        .expect("exits after SIGTERM");
    assert_eq!(status.code(), Some(0), "{}", service.output());
    std::thread::sleep(Duration::from_millis(100));
    let output = service.output();
    assert!(
        output.contains("SIGTERM received") && output.contains("shut down cleanly"),
        "{output}"
    );
}
