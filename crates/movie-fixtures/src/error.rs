//! The one error type of the crate.

use std::path::PathBuf;

/// Everything that can go wrong while loading the dataset or writing a fixture.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// A file could not be read, created, or renamed.
    #[error("{action} {path}")]
    Io {
        /// What was being done ("cannot read", "cannot create a temporary file in" …).
        action: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// The dataset is not the expected JSON array of film records.
    #[error("the dataset {origin} is not a JSON array of film records")]
    Json {
        /// Where the dataset came from (a path, or "embedded fixtures/movies.json").
        origin: String,
        /// The parser error (with line and column).
        #[source]
        source: serde_json::Error,
    },
    /// The dataset holds no usable film, so no row can be generated.
    #[error("the dataset {origin} holds no usable film (every record lacks a title)")]
    Empty {
        /// Where the dataset came from.
        origin: String,
    },
    /// SQLite refused an operation on the fixture file.
    #[error("SQLite error while writing {path}")]
    Sqlite {
        /// The fixture file being written.
        path: PathBuf,
        /// The SQLite error.
        #[source]
        source: rusqlite::Error,
    },
}
