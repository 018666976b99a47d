//! The movie dataset as a deterministic SQLite fixture.
//!
//! oomguard's service under test reads films from SQLite and enriches them
//! from OMDB. This crate turns the real, messy vega-datasets `movies.json`
//! (shipped in `fixtures/`, embedded at build time) into clean [`Movie`] rows
//! with stable synthetic IMDB ids, and writes them to a SQLite file whose
//! `movies` table follows the DESIGN contract.
//!
//! - Cleaning rules (null/numeric titles, broken accents, two-digit-year
//!   errors, duplicate titles): see the `clean` module docs and
//!   `fixtures/README.md`. 3201 records give 3200 usable films.
//! - Ids: row `k` (k ≥ 1) is base film `(k - 1) % base_len`, so any row count
//!   works and every row id is distinct; `imdb_id = "tt" + (9_000_000 + id)`
//!   ([`imdb_id_for`], inverted by [`id_for_imdb_id`]).
//! - Determinism: the same input gives the same rows in the same order.
//!
//! ```no_run
//! use movie_fixtures::{Catalog, write_sqlite};
//!
//! let catalog = Catalog::embedded()?;
//! assert_eq!(catalog.base_len(), 3200);
//! let leon = catalog.by_title("léon").expect("repaired accent");
//! assert_eq!(catalog.by_imdb_id(&leon.imdb_id), Some(leon));
//! let summary = write_sqlite("/tmp/movies.sqlite".as_ref(), &catalog, 10_000)?;
//! assert_eq!(summary.rows, 10_000);
//! # Ok::<(), movie_fixtures::FixtureError>(())
//! ```

mod catalog;
mod clean;
mod error;
mod imdb_id;
mod movie;
mod sqlite;

pub use catalog::Catalog;
pub use clean::{LAST_PLAUSIBLE_YEAR, parse_release_date, repair_text};
pub use error::FixtureError;
pub use imdb_id::{id_for_imdb_id, imdb_id_for};
pub use movie::Movie;
pub use sqlite::{FixtureSummary, SCHEMA, remove_unfinished_fixtures, write_sqlite};
