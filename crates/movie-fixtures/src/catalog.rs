//! The cleaned base dataset and the endless, deterministic row sequence built on it.

use std::collections::HashMap;
use std::path::Path;

use crate::clean::{RawRecord, clean_record};
use crate::error::FixtureError;
use crate::imdb_id::{id_for_imdb_id, imdb_id_for};
use crate::movie::Movie;

/// The dataset shipped in `fixtures/movies.json`, compiled into the crate.
const EMBEDDED_JSON: &str = include_str!("../../../fixtures/movies.json");
const EMBEDDED_ORIGIN: &str = "embedded fixtures/movies.json";

/// The cleaned base dataset: the usable films in dataset order.
///
/// Row `k` (k ≥ 1) is base film `(k - 1) % base_len` with id `k` and the
/// `imdb_id` derived from `k`, so any number of distinct rows can be produced
/// and the same id always yields the same row.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// Usable films in dataset order, with ids 1..=len and their imdb_ids.
    base: Vec<Movie>,
    /// Lower-cased title → index of its first film in `base`.
    first_by_title: HashMap<String, usize>,
}

impl Catalog {
    /// The dataset embedded at build time (`fixtures/movies.json`); works from any directory.
    pub fn embedded() -> Result<Catalog, FixtureError> {
        Self::from_json_str(EMBEDDED_JSON, EMBEDDED_ORIGIN)
    }

    /// Loads a dataset with the same shape as `fixtures/movies.json` from `path`.
    pub fn from_json_file(path: &Path) -> Result<Catalog, FixtureError> {
        let text = std::fs::read_to_string(path).map_err(|source| FixtureError::Io {
            action: "cannot read the dataset",
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_json_str(&text, &path.display().to_string())
    }

    fn from_json_str(json: &str, origin: &str) -> Result<Catalog, FixtureError> {
        let records: Vec<RawRecord> =
            serde_json::from_str(json).map_err(|source| FixtureError::Json {
                origin: origin.to_owned(),
                source,
            })?;
        let base: Vec<Movie> = records
            .into_iter()
            .filter_map(clean_record)
            .zip(1u64..)
            .map(|(mut movie, id)| {
                movie.id = id;
                movie.imdb_id = imdb_id_for(id).unwrap_or_default();
                movie
            })
            .collect();
        if base.is_empty() {
            return Err(FixtureError::Empty {
                origin: origin.to_owned(),
            });
        }
        let mut first_by_title = HashMap::with_capacity(base.len());
        for (index, movie) in base.iter().enumerate() {
            first_by_title
                .entry(movie.title.to_lowercase())
                .or_insert(index);
        }
        Ok(Catalog {
            base,
            first_by_title,
        })
    }

    /// Number of usable films in the base dataset (3200 for vega-datasets 3.2.1).
    pub fn base_len(&self) -> usize {
        self.base.len()
    }

    /// Row `id` (≥ 1): base film `(id - 1) % base_len` with its own id and
    /// imdb_id. `None` for id 0 (and ids too large for the imdb_id rule).
    pub fn row(&self, id: u64) -> Option<Movie> {
        let imdb_id = imdb_id_for(id)?;
        let index = usize::try_from((id - 1) % self.base.len() as u64).ok()?;
        let mut movie = self.base[index].clone();
        movie.id = id;
        movie.imdb_id = imdb_id;
        Some(movie)
    }

    /// Rows with ids `1..=n`, in id order; `n` may exceed [`Catalog::base_len`].
    pub fn rows(&self, n: u64) -> impl Iterator<Item = Movie> + '_ {
        (1..=n).map_while(|id| self.row(id))
    }

    /// The row whose `imdb_id` is `imdb_id`, found in O(1) by inverting the id rule.
    pub fn by_imdb_id(&self, imdb_id: &str) -> Option<Movie> {
        self.row(id_for_imdb_id(imdb_id)?)
    }

    /// The first (lowest id) base film whose title equals `title`, ignoring case.
    pub fn by_title(&self, title: &str) -> Option<Movie> {
        let index = *self.first_by_title.get(&title.to_lowercase())?;
        Some(self.base[index].clone())
    }
}
