//! Cleaning rules that turn a raw dataset record into a [`Movie`].
//!
//! Each rule is stated where it is applied and repeated in `fixtures/README.md`:
//!
//! 1. **Null title** — the record is dropped (in vega-datasets 3.2.1 this is
//!    the only unusable record: 3201 records → 3200 films).
//! 2. **Numeric titles** (`1776`, `2012`, `300`, `9` …) become their decimal
//!    text (`"1776"`).
//! 3. **Broken accents** — the dataset's text was Windows-1252 bytes decoded as
//!    Mac OS Roman (`LÈon` is `Léon`). [`repair_text`] reverses it with an
//!    explicit table for the characters that occur. `³` and `¢` are left alone:
//!    `Alien³` and `Ri¢hie Ri¢h` are the films' real titles.
//! 4. **Release dates** are `"Mon DD YYYY"`, stored as ISO `yyyy-mm-dd`. Years
//!    after [`LAST_PLAUSIBLE_YEAR`] are two-digit-year errors and lose a century
//!    (see that constant for the evidence). A missing or unparseable date
//!    leaves both `release_date` and `year` NULL.
//! 5. **Duplicate titles** (`King Kong`, `Hamlet`, `Twilight` …) are distinct
//!    films and are kept, each with its own id.
//!
//! All other values are kept verbatim.

use serde::Deserialize;

use crate::movie::Movie;

/// The latest release year taken at face value.
///
/// The dataset was compiled around 2010: every year up to 2010 is well
/// populated (92 films in 2010), 2011 holds two genuine upcoming releases
/// (`Restless`, `The Adventures of Tintin: Secret of the Unicorn`), and no
/// film is dated 2012–2014. The 22 films dated 2015–2046 are all classics
/// whose real year is exactly a century earlier (`Duel in the Sun` 2046 →
/// 1946, `Gone with the Wind` 2039 → 1939, `The Birth of a Nation` 2015 →
/// 1915, `King Kong (1933)` 2033 → 1933): two-digit years expanded with the
/// wrong century. Any cut-off from 2011 to 2014 gives the same result.
pub const LAST_PLAUSIBLE_YEAR: i32 = 2011;

/// Mis-decoded character → the character it was meant to be (rule 3).
///
/// Each pair is one Windows-1252 byte read as Mac OS Roman: `È` is byte 0xE9,
/// which Windows-1252 reads as `é`.
const MOJIBAKE: [(char, char); 12] = [
    ('È', 'é'), // 0xE9
    ('Í', 'ê'), // 0xEA
    ('˘', 'ù'), // 0xF9
    ('Ö', '…'), // 0x85
    ('Ω', '½'), // 0xBD
    ('Û', 'ó'), // 0xF3
    ('‰', 'ä'), // 0xE4
    ('‡', 'à'), // 0xE0
    ('·', 'á'), // 0xE1
    ('Ë', 'è'), // 0xE8
    ('Ù', 'ô'), // 0xF4
    ('Î', 'ë'), // 0xEB
];

/// One record exactly as it appears in `movies.json`.
#[derive(Debug, Deserialize)]
pub(crate) struct RawRecord {
    #[serde(rename = "Title")]
    title: Option<RawTitle>,
    #[serde(rename = "Release Date")]
    release_date: Option<String>,
    #[serde(rename = "Major Genre")]
    genre: Option<String>,
    #[serde(rename = "Director")]
    director: Option<String>,
    #[serde(rename = "MPAA Rating")]
    mpaa_rating: Option<String>,
    #[serde(rename = "Running Time min")]
    running_time_min: Option<i64>,
    #[serde(rename = "Distributor")]
    distributor: Option<String>,
    #[serde(rename = "Source")]
    source: Option<String>,
    #[serde(rename = "Creative Type")]
    creative_type: Option<String>,
    #[serde(rename = "US Gross")]
    us_gross: Option<i64>,
    #[serde(rename = "Worldwide Gross")]
    worldwide_gross: Option<i64>,
    #[serde(rename = "US DVD Sales")]
    us_dvd_sales: Option<i64>,
    #[serde(rename = "Production Budget")]
    production_budget: Option<i64>,
    #[serde(rename = "IMDB Rating")]
    imdb_rating: Option<f64>,
    #[serde(rename = "IMDB Votes")]
    imdb_votes: Option<i64>,
    #[serde(rename = "Rotten Tomatoes Rating")]
    rotten_tomatoes_rating: Option<i64>,
}

/// A title is text in most records and a JSON number in a few (`1776`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawTitle {
    Text(String),
    Number(serde_json::Number),
}

/// Cleans one record; `None` if it is unusable (null title, rule 1).
///
/// The returned film has `id` 0 and an empty `imdb_id`: the catalog assigns both.
pub(crate) fn clean_record(raw: RawRecord) -> Option<Movie> {
    let title = match raw.title? {
        RawTitle::Text(text) => repair_text(&text),
        RawTitle::Number(number) => number.to_string(),
    };
    let release = raw.release_date.as_deref().and_then(parse_release_date);
    Some(Movie {
        id: 0,
        imdb_id: String::new(),
        title,
        year: release.map(|(year, _, _)| year),
        release_date: release.map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}")),
        genre: raw.genre.as_deref().map(repair_text),
        director: raw.director.as_deref().map(repair_text),
        mpaa_rating: raw.mpaa_rating.as_deref().map(repair_text),
        running_time_min: raw.running_time_min,
        distributor: raw.distributor.as_deref().map(repair_text),
        source: raw.source.as_deref().map(repair_text),
        creative_type: raw.creative_type.as_deref().map(repair_text),
        us_gross: raw.us_gross,
        worldwide_gross: raw.worldwide_gross,
        us_dvd_sales: raw.us_dvd_sales,
        production_budget: raw.production_budget,
        imdb_rating: raw.imdb_rating,
        imdb_votes: raw.imdb_votes,
        rotten_tomatoes_rating: raw.rotten_tomatoes_rating,
    })
}

/// Reverses the Windows-1252-read-as-Mac-OS-Roman damage (rule 3).
pub fn repair_text(text: &str) -> String {
    text.chars()
        .map(|c| {
            MOJIBAKE
                .iter()
                .find(|(broken, _)| *broken == c)
                .map_or(c, |(_, fixed)| *fixed)
        })
        .collect()
}

/// Parses `"Mon DD YYYY"` into (year, month, day), correcting the century of
/// years after [`LAST_PLAUSIBLE_YEAR`] (rule 4). `None` if it is not a valid date.
pub fn parse_release_date(text: &str) -> Option<(i32, u32, u32)> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut parts = text.split_whitespace();
    let (month, day, year) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let month = MONTHS.iter().position(|m| *m == month)? as u32 + 1;
    let day: u32 = day.parse().ok()?;
    let mut year: i32 = year.parse().ok()?;
    if year > LAST_PLAUSIBLE_YEAR {
        year -= 100;
    }
    (1..=days_in_month(year, month))
        .contains(&day)
        .then_some((year, month, day))
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repairs_every_broken_accent_and_keeps_real_symbols() {
        assert_eq!(repair_text("LÈon"), "Léon");
        assert_eq!(
            repair_text("De battre mon coeur s'est arrÍtÈ"),
            "De battre mon coeur s'est arrêté"
        );
        assert_eq!(
            repair_text("Per qualche dollaro in pi˘"),
            "Per qualche dollaro in più"
        );
        assert_eq!(
            repair_text("I Love You Ö Don't Touch Me!"),
            "I Love You … Don't Touch Me!"
        );
        assert_eq!(
            repair_text("The Naked Gun 2Ω: The Smell of Fear"),
            "The Naked Gun 2½: The Smell of Fear"
        );
        assert_eq!(repair_text("La mala educaciÛn"), "La mala educación");
        assert_eq!(repair_text("Die F‰lscher"), "Die Fälscher");
        assert_eq!(repair_text("DÈj‡ Vu"), "Déjà Vu");
        assert_eq!(repair_text("anglickÈho kr·le"), "anglického krále");
        assert_eq!(repair_text("IndigËnes"), "Indigènes");
        assert_eq!(repair_text("La MÙme"), "La Môme");
        assert_eq!(repair_text("Joyeux NoÎl"), "Joyeux Noël");
        assert_eq!(repair_text("Alien³"), "Alien³");
        assert_eq!(repair_text("Ri¢hie Ri¢h"), "Ri¢hie Ri¢h");
    }

    #[test]
    fn dates_become_iso_and_two_digit_year_errors_lose_a_century() {
        assert_eq!(parse_release_date("Jun 12 1998"), Some((1998, 6, 12)));
        assert_eq!(parse_release_date("Dec 23 2011"), Some((2011, 12, 23)));
        assert_eq!(parse_release_date("Dec 31 2046"), Some((1946, 12, 31)));
        assert_eq!(parse_release_date("Feb 08 2015"), Some((1915, 2, 8)));
        assert_eq!(parse_release_date("Feb 29 2000"), Some((2000, 2, 29)));
        for bad in [
            "",
            "Jun 1998",
            "Jun 31 1998",
            "Feb 29 1999",
            "Foo 01 1998",
            "Jun 12 1998 x",
            "12/06/1998",
        ] {
            assert_eq!(parse_release_date(bad), None, "{bad:?}");
        }
    }
}
