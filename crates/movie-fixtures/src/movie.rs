//! The cleaned film record.

use serde::{Deserialize, Serialize};

/// One cleaned film, as stored in the fixture's `movies` table (one field per column).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Movie {
    /// 1-based row id; ids above the base set repeat it (see [`crate::Catalog::row`]).
    pub id: u64,
    /// Synthetic IMDB id derived from `id` (see [`crate::imdb_id_for`]).
    pub imdb_id: String,
    /// Title, with numeric titles as decimal text and broken accents repaired.
    pub title: String,
    /// Release year, with two-digit-year errors corrected; `None` if the date is missing.
    pub year: Option<i32>,
    /// Release date as ISO `yyyy-mm-dd`; `None` if missing or unparseable.
    pub release_date: Option<String>,
    /// The dataset's "Major Genre".
    pub genre: Option<String>,
    /// Director.
    pub director: Option<String>,
    /// MPAA rating (`R`, `PG-13`, …).
    pub mpaa_rating: Option<String>,
    /// Running time in minutes.
    pub running_time_min: Option<i64>,
    /// Distributor.
    pub distributor: Option<String>,
    /// Source material ("Original Screenplay", "Remake", …).
    pub source: Option<String>,
    /// Creative type ("Contemporary Fiction", …).
    pub creative_type: Option<String>,
    /// US box-office gross in dollars.
    pub us_gross: Option<i64>,
    /// Worldwide box-office gross in dollars.
    pub worldwide_gross: Option<i64>,
    /// US DVD sales in dollars.
    pub us_dvd_sales: Option<i64>,
    /// Production budget in dollars.
    pub production_budget: Option<i64>,
    /// IMDB rating (0–10).
    pub imdb_rating: Option<f64>,
    /// Number of IMDB votes.
    pub imdb_votes: Option<i64>,
    /// Rotten Tomatoes rating (0–100).
    pub rotten_tomatoes_rating: Option<i64>,
}
