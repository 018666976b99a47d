//! The id ↔ `imdb_id` bijection.
//!
//! Rule: `imdb_id = "tt" + decimal(9_000_000 + id)`, for every id ≥ 1. That is
//! `tt` and 7 digits (`tt9000001` … `tt9999999`) for ids below 1 000 000 and
//! 8 or more digits past it (`tt10000000` for id 1 000 000). The decimal text
//! has no sign and no leading zero, so each id has exactly one `imdb_id` and
//! [`id_for_imdb_id`] inverts it exactly.

const OFFSET: u64 = 9_000_000;

/// The synthetic IMDB id of row `id`, or `None` for id 0 or an id so large the
/// rule would overflow.
pub fn imdb_id_for(id: u64) -> Option<String> {
    if id == 0 {
        return None;
    }
    id.checked_add(OFFSET).map(|n| format!("tt{n}"))
}

/// The row id whose synthetic IMDB id is `imdb_id`, or `None` if the string is
/// not of the form produced by [`imdb_id_for`].
pub fn id_for_imdb_id(imdb_id: &str) -> Option<u64> {
    let digits = imdb_id.strip_prefix("tt")?;
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    n.checked_sub(OFFSET).filter(|&id| id >= 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_examples() {
        assert_eq!(imdb_id_for(1).as_deref(), Some("tt9000001"));
        assert_eq!(imdb_id_for(999_999).as_deref(), Some("tt9999999"));
        assert_eq!(imdb_id_for(1_000_000).as_deref(), Some("tt10000000"));
        assert_eq!(imdb_id_for(0), None);
    }

    #[test]
    fn inverse_roundtrips_and_rejects_other_forms() {
        for id in [1, 2, 3200, 3201, 100_000, 999_999, 1_000_000, 123_456_789] {
            let s = imdb_id_for(id).expect("small id");
            assert_eq!(id_for_imdb_id(&s), Some(id), "{s}");
        }
        for bad in [
            "",
            "tt",
            "tt9000000",
            "tt0900001",
            "tt+9000001",
            "TT9000001",
            "tt900000a",
            "tt1",
            "nm9000001",
            "tt99999999999999999999999",
        ] {
            assert_eq!(id_for_imdb_id(bad), None, "{bad:?}");
        }
    }
}
