//! Validating the `/movies` query string.

use serde::Serialize;

/// `limit` when the query does not give one.
pub const DEFAULT_LIMIT: u32 = 1000;

/// A rejected query parameter: HTTP 400 with this JSON body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadParameter {
    /// What is wrong, and what is accepted.
    pub error: String,
    /// The offending parameter's name.
    pub parameter: String,
}

/// The number of movies `/movies` should return, from its raw query pairs.
///
/// `limit` must be plain decimal digits in `1..=max_limit` (no sign, no
/// exponent, not empty, given at most once); without it the limit is
/// [`DEFAULT_LIMIT`] (or `max_limit` if that is lower). Any other parameter is rejected.
pub fn parse_limit(pairs: &[(String, String)], max_limit: u32) -> Result<u32, BadParameter> {
    let mut limit = None;
    for (name, value) in pairs {
        if name != "limit" {
            return Err(BadParameter {
                error: format!("unknown query parameter {name:?}; the only parameter is limit"),
                parameter: name.clone(),
            });
        }
        if limit.is_some() {
            return Err(bad_limit("limit given more than once".to_owned()));
        }
        limit = Some(value.as_str());
    }
    let Some(raw) = limit else {
        return Ok(DEFAULT_LIMIT.min(max_limit));
    };
    let expected = format!("limit must be a whole number from 1 to {max_limit}");
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad_limit(format!("{expected}, got {raw:?}")));
    }
    match raw.parse::<u64>() {
        Ok(n) if (1..=u64::from(max_limit)).contains(&n) => Ok(n as u32),
        _ => Err(bad_limit(format!("{expected}, got {raw:?}"))),
    }
}

fn bad_limit(error: String) -> BadParameter {
    BadParameter {
        error,
        parameter: "limit".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(query: &[(&str, &str)], max: u32) -> Result<u32, BadParameter> {
        let pairs: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse_limit(&pairs, max)
    }

    #[test]
    fn accepts_plain_numbers_in_range_and_defaults() {
        assert_eq!(limit(&[], 10_000), Ok(1000));
        assert_eq!(limit(&[], 50), Ok(50));
        assert_eq!(limit(&[("limit", "1")], 10_000), Ok(1));
        assert_eq!(limit(&[("limit", "10000")], 10_000), Ok(10_000));
        assert_eq!(limit(&[("limit", "007")], 10_000), Ok(7));
    }

    #[test]
    fn rejects_everything_else_naming_the_parameter() {
        for bad in [
            "0",
            "-1",
            "abc",
            "1e9",
            "",
            "10001",
            "+5",
            " 5",
            "1.0",
            "99999999999999999999999",
        ] {
            let err = limit(&[("limit", bad)], 10_000).expect_err(bad);
            assert_eq!(err.parameter, "limit", "{bad:?}");
        }
        let twice = limit(&[("limit", "1"), ("limit", "2")], 10_000).expect_err("twice");
        assert_eq!(twice.parameter, "limit");
        let unknown = limit(&[("limt", "5")], 10_000).expect_err("typo");
        assert_eq!(unknown.parameter, "limt");
    }
}
