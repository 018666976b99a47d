//! Read-only access to the `movies` table.

use std::path::{Path, PathBuf};

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use serde_json::{Map, Value};

/// A database problem, at start-up or while serving.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database file does not exist.
    #[error(
        "database file {0} does not exist (help: create one with `cargo run -p movie-fixtures -- --out {0}`)"
    )]
    Missing(PathBuf),
    /// The file could not be opened or read as SQLite.
    #[error("cannot read database {path}: {source}")]
    Unreadable {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The database has no usable `movies` table.
    #[error(
        "database {path} has no usable `movies` table (need columns `id` and `imdb_id`): {source}"
    )]
    NoMoviesTable {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
}

/// One `movies` row: every column as JSON, plus the id used for the OMDB lookup.
#[derive(Debug, Clone, PartialEq)]
pub struct MovieRow {
    /// The `imdb_id` column, if it holds text.
    pub imdb_id: Option<String>,
    /// Every column of the row, by name.
    pub columns: Map<String, Value>,
}

/// The movie table of one SQLite file, opened read-only per read.
#[derive(Debug, Clone)]
pub struct MovieStore {
    path: PathBuf,
}

impl MovieStore {
    /// Checks that `path` is a readable SQLite file with a `movies` table.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        if !path.exists() {
            return Err(DbError::Missing(path.to_path_buf()));
        }
        let store = Self {
            path: path.to_path_buf(),
        };
        let conn = store.connect()?;
        conn.prepare("SELECT id, imdb_id FROM movies LIMIT 0")
            .map_err(|source| match source {
                rusqlite::Error::SqliteFailure(err, _)
                    if err.code == rusqlite::ErrorCode::NotADatabase =>
                {
                    DbError::Unreadable {
                        path: path.to_path_buf(),
                        source,
                    }
                }
                source => DbError::NoMoviesTable {
                    path: path.to_path_buf(),
                    source,
                },
            })?;
        Ok(store)
    }

    /// The first `limit` movies in id order. Blocking: call it from `spawn_blocking`.
    pub fn read(&self, limit: u32) -> Result<Vec<MovieRow>, DbError> {
        let unreadable = |source| DbError::Unreadable {
            path: self.path.clone(),
            source,
        };
        let conn = self.connect()?;
        let mut stmt = conn
            .prepare("SELECT * FROM movies ORDER BY id LIMIT ?1")
            .map_err(unreadable)?;
        let names: Vec<String> = stmt.column_names().into_iter().map(str::to_owned).collect();
        let mut rows = stmt.query([limit]).map_err(unreadable)?;
        let mut movies = Vec::with_capacity(limit.min(10_000) as usize);
        while let Some(row) = rows.next().map_err(unreadable)? {
            let mut columns = Map::with_capacity(names.len() + 2);
            for (i, name) in names.iter().enumerate() {
                let value = row.get_ref(i).map_err(unreadable)?;
                columns.insert(name.clone(), to_json(value));
            }
            let imdb_id = columns
                .get("imdb_id")
                .and_then(Value::as_str)
                .map(str::to_owned);
            movies.push(MovieRow { imdb_id, columns });
        }
        Ok(movies)
    }

    fn connect(&self) -> Result<Connection, DbError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        Connection::open_with_flags(&self.path, flags).map_err(|source| DbError::Unreadable {
            path: self.path.clone(),
            source,
        })
    }
}

fn to_json(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Null | ValueRef::Blob(_) => Value::Null,
        ValueRef::Integer(i) => Value::from(i),
        ValueRef::Real(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        ValueRef::Text(bytes) => Value::String(String::from_utf8_lossy(bytes).into_owned()),
    }
}
