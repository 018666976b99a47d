//! OMDB-shaped JSON bodies, derived deterministically from a [`Movie`].
//!
//! Every field of the real API is present; values the dataset lacks are
//! `"N/A"` as OMDB writes them, and the free-text fields (`Writer`, `Actors`,
//! `Plot`) are generated from the film's own data so bodies weigh ~1 KB.

use movie_fixtures::Movie;
use serde::Serialize;

/// Body for an unknown film (HTTP 200).
pub const NOT_FOUND: &str = r#"{"Response":"False","Error":"Movie not found!"}"#;
/// Body for a wrong API key (HTTP 401).
pub const INVALID_KEY: &str = r#"{"Response":"False","Error":"Invalid API key!"}"#;
/// Body for a missing API key (HTTP 401).
pub const NO_KEY: &str = r#"{"Response":"False","Error":"No API key provided."}"#;
/// Body for a request with neither `i` nor `t` (HTTP 200).
pub const INCORRECT_ID: &str = r#"{"Response":"False","Error":"Incorrect IMDb ID."}"#;
/// Body for the rate-limit fault (HTTP 401).
pub const LIMIT_REACHED: &str = r#"{"Response":"False","Error":"Request limit reached!"}"#;

const NA: &str = "N/A";
const FIRST: [&str; 12] = [
    "Alex", "Maria", "John", "Priya", "Kenji", "Sofia", "David", "Amara", "Lucas", "Elena", "Omar",
    "Grace",
];
const LAST: [&str; 12] = [
    "Hartley",
    "Moreno",
    "Okafor",
    "Lindqvist",
    "Tanaka",
    "Rossi",
    "Bennett",
    "Nguyen",
    "Fischer",
    "Kowalski",
    "Haddad",
    "Sullivan",
];

#[derive(Serialize)]
struct Rating {
    #[serde(rename = "Source")]
    source: &'static str,
    #[serde(rename = "Value")]
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct OmdbMovie<'a> {
    title: &'a str,
    year: String,
    rated: &'a str,
    released: String,
    runtime: String,
    genre: &'a str,
    director: &'a str,
    writer: String,
    actors: String,
    plot: String,
    language: &'static str,
    country: &'static str,
    awards: &'static str,
    poster: String,
    ratings: Vec<Rating>,
    metascore: String,
    #[serde(rename = "imdbRating")]
    imdb_rating: String,
    #[serde(rename = "imdbVotes")]
    imdb_votes: String,
    #[serde(rename = "imdbID")]
    imdb_id: &'a str,
    #[serde(rename = "Type")]
    kind: &'static str,
    #[serde(rename = "DVD")]
    dvd: &'static str,
    box_office: String,
    production: &'a str,
    website: &'static str,
    response: &'static str,
}

/// `1071` → `"1,071"`.
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Dataset dates (`"Jun 12 1998"`, or ISO `"1998-06-12"`) in OMDB's
/// `"12 Jun 1998"` form; anything else passes through unchanged.
fn omdb_date(raw: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let parts: Vec<&str> = raw.split_whitespace().collect();
    if let [month, day, year] = parts.as_slice()
        && MONTHS.contains(month)
    {
        return format!("{day:0>2} {month} {year}");
    }
    let iso: Vec<&str> = raw.split('-').collect();
    if let [y, m, d] = iso.as_slice()
        && let Ok(m) = m.parse::<usize>()
        && (1..=12).contains(&m)
        && y.len() == 4
    {
        return format!("{d:0>2} {} {y}", MONTHS[m - 1]);
    }
    raw.to_string()
}

fn person(seed: u64, salt: u64) -> String {
    let h = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17)
        ^ salt.wrapping_mul(0xff51_afd7_ed55_8ccd);
    let first = FIRST[(h % 12) as usize];
    let last = LAST[((h >> 8) % 12) as usize];
    format!("{first} {last}")
}

fn opt(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or(NA)
}

/// The OMDB JSON body (`Response: "True"`) for `movie`.
pub fn movie_body(movie: &Movie) -> String {
    let seed = movie.id;
    let director = opt(&movie.director);
    let genre = opt(&movie.genre);
    let writer = match movie.source.as_deref() {
        Some(src) => format!(
            "{} (screenplay), {} ({})",
            person(seed, 1),
            person(seed, 2),
            src.to_lowercase()
        ),
        None => format!("{} (screenplay)", person(seed, 1)),
    };
    let actors = (3..7)
        .map(|i| person(seed, i))
        .collect::<Vec<_>>()
        .join(", ");
    let year = movie.year.map_or_else(|| NA.to_string(), |y| y.to_string());
    let plot = format!(
        "{title} ({year}) is a {kind}{genre_lc} feature{by}. Released by {dist}, it follows {a} and {b} \
         through a story that audiences rated {imdb} on IMDb, earning {gross} at the US box office \
         on a budget of {budget}.",
        title = movie.title,
        kind = movie
            .creative_type
            .as_deref()
            .map_or_else(String::new, |c| format!("{} ", c.to_lowercase())),
        genre_lc = movie
            .genre
            .as_deref()
            .map_or_else(|| "film".to_string(), str::to_lowercase),
        by = movie
            .director
            .as_deref()
            .map_or_else(String::new, |d| format!(" directed by {d}")),
        dist = movie
            .distributor
            .as_deref()
            .unwrap_or("an independent distributor"),
        a = person(seed, 3),
        b = person(seed, 4),
        imdb = movie
            .imdb_rating
            .map_or_else(|| "an unknown score".to_string(), |r| format!("{r:.1}/10")),
        gross = movie.us_gross.map_or_else(
            || "an unreported sum".to_string(),
            |g| format!("${}", thousands(g))
        ),
        budget = movie.production_budget.map_or_else(
            || "undisclosed".to_string(),
            |b| format!("${}", thousands(b))
        ),
    );
    let mut ratings = Vec::with_capacity(3);
    if let Some(r) = movie.imdb_rating {
        ratings.push(Rating {
            source: "Internet Movie Database",
            value: format!("{r:.1}/10"),
        });
    }
    if let Some(rt) = movie.rotten_tomatoes_rating {
        ratings.push(Rating {
            source: "Rotten Tomatoes",
            value: format!("{rt}%"),
        });
    }
    // Metascore is not in the dataset: derived from the two ratings it has.
    let metascore = match (movie.imdb_rating, movie.rotten_tomatoes_rating) {
        (Some(i), Some(rt)) => Some(((i * 10.0 + rt as f64) / 2.0).round() as i64),
        (Some(i), None) => Some((i * 10.0).round() as i64),
        (None, Some(rt)) => Some(rt),
        (None, None) => None,
    };
    if let Some(m) = metascore {
        ratings.push(Rating {
            source: "Metacritic",
            value: format!("{m}/100"),
        });
    }
    let body = OmdbMovie {
        title: &movie.title,
        year,
        rated: opt(&movie.mpaa_rating),
        released: movie
            .release_date
            .as_deref()
            .map_or_else(|| NA.to_string(), omdb_date),
        runtime: movie
            .running_time_min
            .map_or_else(|| NA.to_string(), |m| format!("{m} min")),
        genre,
        director,
        writer,
        actors,
        plot,
        language: "English",
        country: "United States",
        awards: NA,
        poster: format!(
            "https://m.media-amazon.com/images/M/{}._V1_SX300.jpg",
            movie.imdb_id
        ),
        ratings,
        metascore: metascore.map_or_else(|| NA.to_string(), |m| m.to_string()),
        imdb_rating: movie
            .imdb_rating
            .map_or_else(|| NA.to_string(), |r| format!("{r:.1}")),
        imdb_votes: movie.imdb_votes.map_or_else(|| NA.to_string(), thousands),
        imdb_id: &movie.imdb_id,
        kind: "movie",
        dvd: NA,
        box_office: movie
            .us_gross
            .map_or_else(|| NA.to_string(), |g| format!("${}", thousands(g))),
        production: opt(&movie.distributor),
        website: NA,
        response: "True",
    };
    serde_json::to_string(&body).unwrap_or_else(|_| NOT_FOUND.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_and_dates() {
        assert_eq!(thousands(1071), "1,071");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(146_083_000), "146,083,000");
        assert_eq!(omdb_date("Jun 12 1998"), "12 Jun 1998");
        assert_eq!(omdb_date("Aug 7 1998"), "07 Aug 1998");
        assert_eq!(omdb_date("1998-06-12"), "12 Jun 1998");
    }
}
