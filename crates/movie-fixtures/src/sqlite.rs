//! Writing the SQLite fixture.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, params};

use crate::catalog::Catalog;
use crate::error::FixtureError;

/// The fixture's schema: the DESIGN contract columns first, then the rest of [`crate::Movie`].
pub const SCHEMA: &str = "CREATE TABLE movies (
    id INTEGER PRIMARY KEY,
    imdb_id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    year INTEGER,
    release_date TEXT,
    genre TEXT,
    director TEXT,
    mpaa_rating TEXT,
    running_time_min INTEGER,
    distributor TEXT,
    source TEXT,
    creative_type TEXT,
    us_gross INTEGER,
    worldwide_gross INTEGER,
    us_dvd_sales INTEGER,
    production_budget INTEGER,
    imdb_rating REAL,
    imdb_votes INTEGER,
    rotten_tomatoes_rating INTEGER
)";

const INSERT: &str = "INSERT INTO movies VALUES \
    (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)";

/// What [`write_sqlite`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixtureSummary {
    /// Rows in the `movies` table.
    pub rows: u64,
    /// The fixture file.
    pub path: PathBuf,
    /// Distinct films the rows cycle through ([`Catalog::base_len`]).
    pub base_len: usize,
    /// Size of the written file in bytes.
    pub file_bytes: u64,
}

/// Name prefix and suffix of a fixture still being written (see [`write_sqlite`]).
const UNFINISHED: (&str, &str) = (".movie-fixture-", ".sqlite.tmp");

/// Removes the unfinished fixtures [`write_sqlite`] left in `dir` when its process was
/// stopped mid-write (a file being written by a live writer is unlinked, harmlessly).
/// Returns how many it removed; a directory that cannot be read has none.
pub fn remove_unfinished_fixtures(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            name.starts_with(UNFINISHED.0) && name.ends_with(UNFINISHED.1)
        })
        .filter(|entry| std::fs::remove_file(entry.path()).is_ok())
        .count()
}

/// Writes rows `1..=rows` of `catalog` to a new SQLite file at `path`.
///
/// The file is built next to `path` under a temporary name (one transaction,
/// one prepared statement) and renamed over `path` only once complete, so
/// readers see either the old file or the new one, never a partial one.
pub fn write_sqlite(
    path: &Path,
    catalog: &Catalog,
    rows: u64,
) -> Result<FixtureSummary, FixtureError> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let temp = tempfile::Builder::new()
        .prefix(UNFINISHED.0)
        .suffix(UNFINISHED.1)
        .tempfile_in(dir)
        .map_err(|source| FixtureError::Io {
            action: "cannot create a temporary file in",
            path: dir.to_path_buf(),
            source,
        })?;
    let sqlite_err = |source| FixtureError::Sqlite {
        path: path.to_path_buf(),
        source,
    };
    let mut conn = Connection::open(temp.path()).map_err(sqlite_err)?;
    fill(&mut conn, catalog, rows).map_err(sqlite_err)?;
    conn.close().map_err(|(_, source)| sqlite_err(source))?;
    temp.persist(path).map_err(|err| FixtureError::Io {
        action: "cannot move the finished fixture to",
        path: path.to_path_buf(),
        source: err.error,
    })?;
    let file_bytes = std::fs::metadata(path)
        .map_err(|source| FixtureError::Io {
            action: "cannot stat",
            path: path.to_path_buf(),
            source,
        })?
        .len();
    Ok(FixtureSummary {
        rows,
        path: path.to_path_buf(),
        base_len: catalog.base_len(),
        file_bytes,
    })
}

fn fill(conn: &mut Connection, catalog: &Catalog, rows: u64) -> rusqlite::Result<()> {
    // The file is private until renamed, so crash safety comes from the rename,
    // not from SQLite's journal.
    conn.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")?;
    let tx = conn.transaction()?;
    tx.execute(SCHEMA, [])?;
    {
        let mut insert = tx.prepare(INSERT)?;
        for m in catalog.rows(rows) {
            insert.execute(params![
                i64::try_from(m.id)
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?,
                m.imdb_id,
                m.title,
                m.year,
                m.release_date,
                m.genre,
                m.director,
                m.mpaa_rating,
                m.running_time_min,
                m.distributor,
                m.source,
                m.creative_type,
                m.us_gross,
                m.worldwide_gross,
                m.us_dvd_sales,
                m.production_budget,
                m.imdb_rating,
                m.imdb_votes,
                m.rotten_tomatoes_rating,
            ])?;
        }
    }
    tx.commit()
}
