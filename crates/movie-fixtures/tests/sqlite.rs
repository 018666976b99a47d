//! The SQLite fixture file and the `movie-fixtures` binary.

use std::path::Path;
use std::process::Command;

use movie_fixtures::{Catalog, FixtureError, remove_unfinished_fixtures, write_sqlite};
use rusqlite::Connection;

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Every row of the table as text, in id order: the "row data" compared across runs.
fn dump(path: &Path) -> String {
    let conn = Connection::open(path).expect("open fixture");
    let mut stmt = conn
        .prepare("SELECT * FROM movies ORDER BY id")
        .expect("prepare");
    let columns = stmt.column_count();
    let mut out = String::new();
    let mut rows = stmt.query([]).expect("query");
    while let Some(row) = rows.next().expect("row") {
        for i in 0..columns {
            let value: rusqlite::types::Value = row.get(i).expect("value");
            out.push_str(&format!("{value:?}\t"));
        }
        out.push('\n');
    }
    out
}

#[test]
fn fixture_holds_every_film_with_the_contract_schema() {
    let dir = temp_dir();
    let path = dir.path().join("movies.sqlite");
    let catalog = Catalog::embedded().expect("dataset");
    let summary = write_sqlite(&path, &catalog, catalog.base_len() as u64).expect("write");
    assert_eq!(summary.rows, 3200);
    assert_eq!(summary.path, path);
    let conn = Connection::open(&path).expect("open");
    let count: i64 = conn
        .query_row("SELECT count(*) FROM movies", [], |r| r.get(0))
        .expect("count");
    assert_eq!(count, 3200);
    let (id, imdb_id, title, year): (i64, String, String, Option<i64>) = conn
        .query_row(
            "SELECT id, imdb_id, title, year FROM movies ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .expect("first row");
    assert_eq!(
        (id, imdb_id.as_str(), title.as_str(), year),
        (1, "tt9000001", "The Land Girls", Some(1998))
    );
    let leon: Option<String> = conn
        .query_row(
            "SELECT release_date FROM movies WHERE title = 'Léon'",
            [],
            |r| r.get(0),
        )
        .expect("Léon");
    assert!(leon.is_some());
    let distinct: i64 = conn
        .query_row("SELECT count(DISTINCT imdb_id) FROM movies", [], |r| {
            r.get(0)
        })
        .expect("distinct");
    assert_eq!(distinct, 3200);
    let dup = conn.execute(
        "INSERT INTO movies (id, imdb_id, title) VALUES (99999, 'tt9000001', 'x')",
        [],
    );
    assert!(dup.is_err(), "imdb_id must be UNIQUE");
}

#[test]
fn two_runs_give_identical_row_data_and_replace_the_file() {
    let dir = temp_dir();
    let (a, b) = (dir.path().join("a.sqlite"), dir.path().join("b.sqlite"));
    let catalog = Catalog::embedded().expect("dataset");
    write_sqlite(&a, &catalog, 10_000).expect("write a");
    write_sqlite(&b, &Catalog::embedded().expect("dataset"), 10_000).expect("write b");
    let dump_a = dump(&a);
    assert_eq!(dump_a.lines().count(), 10_000);
    assert_eq!(dump_a, dump(&b));
    // Overwriting replaces the file and leaves no temporary behind.
    write_sqlite(&a, &catalog, 5).expect("rewrite a");
    assert_eq!(dump(&a).lines().count(), 5);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn unfinished_fixtures_left_by_a_killed_writer_are_removed_and_nothing_else() {
    let dir = temp_dir();
    let keep = ["fixture.sqlite", "summary.json", ".movie-fixture-notes.txt"];
    for name in keep {
        std::fs::write(dir.path().join(name), "kept").expect("write");
    }
    for name in [
        ".movie-fixture-a1B2c3.sqlite.tmp",
        ".movie-fixture-x.sqlite.tmp",
    ] {
        std::fs::write(dir.path().join(name), "half a fixture").expect("write");
    }
    assert_eq!(remove_unfinished_fixtures(dir.path()), 2);
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut want: Vec<_> = keep.iter().map(|n| n.to_string()).collect();
    want.sort();
    assert_eq!(names, want);
    assert_eq!(remove_unfinished_fixtures(&dir.path().join("absent")), 0);
}

#[test]
fn unwritable_destination_is_a_clear_error() {
    let dir = temp_dir();
    let path = dir.path().join("no-such-dir").join("m.sqlite");
    let catalog = Catalog::embedded().expect("dataset");
    let err = write_sqlite(&path, &catalog, 10).expect_err("missing directory");
    assert!(matches!(err, FixtureError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("no-such-dir"), "{err}");
}

#[test]
fn binary_writes_100_000_rows_and_reports_them() {
    let dir = temp_dir();
    let path = dir.path().join("big.sqlite");
    let output = Command::new(env!("CARGO_BIN_EXE_movie-fixtures"))
        .args([
            "--out".as_ref(),
            path.as_os_str(),
            "--rows".as_ref(),
            "100000".as_ref(),
        ])
        .output()
        .expect("run movie-fixtures");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.starts_with("wrote 100000 rows (3200 distinct films) to "),
        "{stdout}"
    );
    assert_eq!(stdout.lines().count(), 1);
    let conn = Connection::open(&path).expect("open");
    let (count, max_imdb): (i64, String) = conn
        .query_row("SELECT count(*), max(imdb_id) FROM movies", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("count");
    assert_eq!((count, max_imdb.as_str()), (100_000, "tt9100000"));
}

#[test]
fn binary_defaults_to_the_base_set_and_fails_clearly() {
    let dir = temp_dir();
    let path = dir.path().join("m.sqlite");
    let ok = Command::new(env!("CARGO_BIN_EXE_movie-fixtures"))
        .arg("--out")
        .arg(&path)
        .output()
        .expect("run");
    assert!(ok.status.success());
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("wrote 3200 rows"));

    let bad = Command::new(env!("CARGO_BIN_EXE_movie-fixtures"))
        .arg("--out")
        .arg(dir.path().join("missing").join("m.sqlite"))
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success());
    assert!(
        stderr.contains("missing") && stderr.contains("help:"),
        "{stderr}"
    );

    let no_dataset = Command::new(env!("CARGO_BIN_EXE_movie-fixtures"))
        .arg("--out")
        .arg(&path)
        .args(["--dataset", "/nonexistent/movies.json"])
        .output()
        .expect("run");
    assert!(!no_dataset.status.success());
    assert!(String::from_utf8_lossy(&no_dataset.stderr).contains("/nonexistent/movies.json"));

    let zero = Command::new(env!("CARGO_BIN_EXE_movie-fixtures"))
        .arg("--out")
        .arg(&path)
        .args(["--rows", "0"])
        .output()
        .expect("run");
    assert_eq!(zero.status.code(), Some(2), "clap usage error");
}
