//! The cleaned catalog against the real embedded dataset.

use movie_fixtures::{Catalog, Movie, id_for_imdb_id};

fn catalog() -> Catalog {
    Catalog::embedded().expect("embedded dataset parses")
}

#[test]
fn every_record_but_the_null_title_is_a_film() {
    let catalog = catalog();
    assert_eq!(catalog.base_len(), 3200);
    let rows: Vec<Movie> = catalog.rows(3200).collect();
    assert!(rows.iter().all(|m| !m.title.is_empty()));
    assert_eq!(
        rows.first().map(|m| m.title.as_str()),
        Some("The Land Girls")
    );
    let ids: Vec<u64> = rows.iter().map(|m| m.id).collect();
    assert_eq!(ids, (1..=3200).collect::<Vec<_>>());
}

#[test]
fn numeric_titles_become_text() {
    let catalog = catalog();
    for title in [
        "1776", "1941", "1408", "2012", "2046", "21", "300", "9", "54",
    ] {
        let movie = catalog
            .by_title(title)
            .unwrap_or_else(|| panic!("{title} missing"));
        assert_eq!(movie.title, title);
    }
}

#[test]
fn broken_accents_are_repaired_and_real_symbols_kept() {
    let catalog = catalog();
    for title in [
        "Léon",
        "Le Fabuleux destin d'Amélie Poulain",
        "De battre mon coeur s'est arrêté",
        "Per qualche dollaro in più",
        "I Love You … Don't Touch Me!",
        "The Naked Gun 2½: The Smell of Fear",
        "La mala educación",
        "Die Fälscher",
        "Déjà Vu",
        "Obsluhoval jsem anglického krále",
        "Indigènes",
        "La Môme",
        "Joyeux Noël",
        "Molière",
        "Alien³",
        "Ri¢hie Ri¢h",
    ] {
        assert!(catalog.by_title(title).is_some(), "{title} missing");
    }
    let broken = ['È', 'Í', '˘', 'Ö', 'Ω', 'Û', '‰', '‡', '·', 'Ë', 'Ù', 'Î'];
    let leftovers: Vec<String> = catalog
        .rows(3200)
        .map(|m| m.title)
        .filter(|t| t.contains(broken))
        .collect();
    assert!(leftovers.is_empty(), "still broken: {leftovers:?}");
}

#[test]
fn two_digit_year_errors_are_corrected() {
    let catalog = catalog();
    let duel = catalog.by_title("Duel in the Sun").expect("present");
    assert_eq!(
        (duel.year, duel.release_date.as_deref()),
        (Some(1946), Some("1946-12-31"))
    );
    let oz = catalog.by_title("The Wizard of Oz").expect("present");
    assert_eq!(oz.year, Some(1939));
    let tintin = catalog
        .by_title("The Adventures of Tintin: Secret of the Unicorn")
        .expect("present");
    assert_eq!(tintin.year, Some(2011));
    let max_year = catalog.rows(3200).filter_map(|m| m.year).max();
    assert_eq!(max_year, Some(2011));
    assert!(
        catalog
            .rows(3200)
            .all(|m| m.year.is_some() == m.release_date.is_some())
    );
}

#[test]
fn duplicate_titles_are_separate_films_and_lookup_returns_the_first() {
    let catalog = catalog();
    let king_kongs: Vec<Movie> = catalog
        .rows(3200)
        .filter(|m| m.title == "King Kong")
        .collect();
    assert!(king_kongs.len() >= 2, "{king_kongs:?}");
    assert_ne!(king_kongs[0].imdb_id, king_kongs[1].imdb_id);
    assert_eq!(catalog.by_title("KING KONG"), Some(king_kongs[0].clone()));
}

#[test]
fn rows_beyond_the_base_repeat_it_with_new_ids() {
    let catalog = catalog();
    let first = catalog.row(1).expect("row 1");
    let again = catalog.row(3201).expect("row 3201");
    assert_eq!(again.title, first.title);
    assert_eq!(again.id, 3201);
    assert_eq!(again.imdb_id, "tt9003201");
    assert_eq!(
        catalog.row(1_000_000).map(|m| m.imdb_id),
        Some("tt10000000".to_owned())
    );
    assert_eq!(catalog.row(0), None);
    let mut seen = std::collections::HashSet::new();
    for movie in catalog.rows(10_000) {
        assert!(
            seen.insert(movie.imdb_id.clone()),
            "duplicate {}",
            movie.imdb_id
        );
        assert_eq!(id_for_imdb_id(&movie.imdb_id), Some(movie.id));
    }
    assert_eq!(seen.len(), 10_000);
}

#[test]
fn imdb_id_lookup_inverts_the_rule() {
    let catalog = catalog();
    for id in [1, 3200, 3201, 99_999, 1_234_567] {
        let movie = catalog.row(id).expect("row");
        assert_eq!(catalog.by_imdb_id(&movie.imdb_id), Some(movie));
    }
    assert_eq!(catalog.by_imdb_id("tt0111161"), None);
    assert_eq!(catalog.by_imdb_id("garbage"), None);
}

#[test]
fn same_input_gives_the_same_rows() {
    let a: Vec<Movie> = catalog().rows(7000).collect();
    let b: Vec<Movie> = catalog().rows(7000).collect();
    assert_eq!(a, b);
}

#[test]
fn catalog_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Catalog>();
}
