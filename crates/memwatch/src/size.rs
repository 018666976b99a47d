//! Byte sizes that a user cannot misread.
//!
//! Accepted forms (units are case-insensitive, a space before the unit is allowed):
//!
//! | input | meaning |
//! | --- | --- |
//! | `536870912`, `536870912B` | bytes |
//! | `512KiB`, `512MiB`, `1.5GiB`, `1TiB` | binary (powers of 1024) |
//! | `512kB`, `512MB`, `2GB`, `1TB` | decimal (powers of 1000) |
//! | `512K`, `512M`, `2G`, `1T` | **binary**, like `docker -m 512m`, `ulimit` and `free -m` |
//!
//! The bare-letter form is binary: `512M` is 512 MiB = 536 870 912 bytes (note that Kubernetes reads
//! `512M` as decimal; write `512MB` if that is what you mean). [`ByteSize`]'s `Display` shows both
//! units whenever they differ, e.g. `512 MiB (536.9 MB)`, so the meaning is always visible.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The forms accepted by [`ByteSize::from_str`], quoted in every parse error.
pub const ACCEPTED_FORMS: &str = "a size like \"512MiB\" (binary, 536870912 bytes), \"512MB\" (decimal, 512000000 bytes), \
\"512M\" (binary, same as 512MiB), \"1.5GiB\", or a plain number of bytes like \"536870912\"";

/// A number of bytes; parses and prints with explicit units (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ByteSize(pub u64);

/// Why a size string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid size {input:?}: {problem}; expected {ACCEPTED_FORMS}")]
pub struct ParseSizeError {
    input: String,
    problem: &'static str,
}

const KIB: u64 = 1024;

impl ByteSize {
    /// `n` binary mebibytes.
    pub const fn mib(n: u64) -> Self {
        Self(n * KIB * KIB)
    }

    /// The number of bytes.
    pub const fn bytes(self) -> u64 {
        self.0
    }
}

fn unit_multiplier(unit: &str) -> Option<u64> {
    let m = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => KIB,
        "m" | "mib" => KIB.pow(2),
        "g" | "gib" => KIB.pow(3),
        "t" | "tib" => KIB.pow(4),
        "kb" => 1000,
        "mb" => 1000u64.pow(2),
        "gb" => 1000u64.pow(3),
        "tb" => 1000u64.pow(4),
        _ => return None,
    };
    Some(m)
}

impl FromStr for ByteSize {
    type Err = ParseSizeError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |problem| ParseSizeError {
            input: input.to_owned(),
            problem,
        };
        let text = input.trim();
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let multiplier = unit_multiplier(unit.trim()).ok_or_else(|| err("unknown unit"))?;
        let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(err("no number"));
        }
        if frac_part.contains('.') || frac_part.len() > 9 {
            return Err(err("malformed number"));
        }
        let int: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| err("malformed number"))?
        };
        let frac: u128 = if frac_part.is_empty() {
            0
        } else {
            frac_part.parse().map_err(|_| err("malformed number"))?
        };
        let scale = 10u128.pow(frac_part.len() as u32);
        let m = u128::from(multiplier);
        // Round the fractional part to the nearest byte.
        let bytes = int
            .checked_mul(m)
            .and_then(|b| b.checked_add((frac * m + scale / 2) / scale))
            .ok_or_else(|| err("too large"))?;
        u64::try_from(bytes)
            .map(ByteSize)
            .map_err(|_| err("too large"))
    }
}

/// Formats `bytes / unit` with at most `decimals` decimals, trailing zeros trimmed.
fn scaled(bytes: u64, unit: u64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, bytes as f64 / unit as f64);
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

fn largest_unit(bytes: u64, base: u64, names: [&'static str; 4]) -> (u64, &'static str) {
    let mut unit = base;
    let mut name = names[0];
    for next in &names[1..] {
        if bytes >= unit * base {
            unit *= base;
            name = next;
        } else {
            break;
        }
    }
    (unit, name)
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        if b < 1000 {
            return write!(f, "{b} B");
        }
        let (bin_unit, bin_name) = largest_unit(b, 1024, ["KiB", "MiB", "GiB", "TiB"]);
        let (dec_unit, dec_name) = largest_unit(b, 1000, ["kB", "MB", "GB", "TB"]);
        if b < 1024 {
            return write!(f, "{b} B ({} {dec_name})", scaled(b, dec_unit, 1));
        }
        // Lead with the unit that represents the value exactly (decimal only if binary cannot).
        if !b.is_multiple_of(bin_unit) && b.is_multiple_of(dec_unit) {
            write!(
                f,
                "{} {dec_name} ({} {bin_name})",
                scaled(b, dec_unit, 2),
                scaled(b, bin_unit, 1)
            )
        } else {
            write!(
                f,
                "{} {bin_name} ({} {dec_name})",
                scaled(b, bin_unit, 2),
                scaled(b, dec_unit, 1)
            )
        }
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.0)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SizeVisitor;
        impl Visitor<'_> for SizeVisitor {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(ACCEPTED_FORMS)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ByteSize, E> {
                Ok(ByteSize(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ByteSize, E> {
                u64::try_from(v)
                    .map(ByteSize)
                    .map_err(|_| E::custom(format!("negative size {v}; expected {ACCEPTED_FORMS}")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteSize, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_any(SizeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> u64 {
        s.parse::<ByteSize>().expect(s).0
    }

    #[test]
    fn parses_every_documented_form() {
        assert_eq!(parse("512MiB"), 536_870_912);
        assert_eq!(parse("512MB"), 512_000_000);
        assert_eq!(parse("512M"), 536_870_912);
        assert_eq!(parse("512m"), 536_870_912);
        assert_eq!(parse("536870912"), 536_870_912);
        assert_eq!(parse("1.5GiB"), 1_610_612_736);
        assert_eq!(parse(" 2 kB "), 2000);
        assert_eq!(parse("10B"), 10);
        assert_eq!(parse(".5KiB"), 512);
    }

    #[test]
    fn rejects_garbage_naming_the_accepted_forms() {
        for bad in ["", "MiB", "12XB", "1.2.3MB", "-5MB", "99999999999TiB"] {
            let err = bad.parse::<ByteSize>().expect_err(bad).to_string();
            assert!(err.contains("512MiB") && err.contains("decimal"), "{err}");
        }
    }

    #[test]
    fn display_shows_both_units_where_they_differ() {
        assert_eq!(ByteSize(536_870_912).to_string(), "512 MiB (536.9 MB)");
        assert_eq!(ByteSize(512_000_000).to_string(), "512 MB (488.3 MiB)");
        assert_eq!(ByteSize(1_610_612_736).to_string(), "1.5 GiB (1.6 GB)");
        assert_eq!(ByteSize(512).to_string(), "512 B");
        assert_eq!(ByteSize(1000).to_string(), "1000 B (1 kB)");
    }

    #[test]
    fn deserializes_from_string_or_integer() {
        let v: Vec<ByteSize> = serde_json::from_str(r#"["128MiB", 1024]"#).expect("valid");
        assert_eq!(v, vec![ByteSize::mib(128), ByteSize(1024)]);
        let err = serde_json::from_str::<ByteSize>(r#""lots""#).expect_err("invalid");
        assert!(err.to_string().contains("512MiB"), "{err}");
        let err = serde_json::from_str::<ByteSize>("true").expect_err("invalid");
        assert!(err.to_string().contains("512MiB"), "{err}");
    }
}
