//! Stub configuration: latency model, fault probabilities, API key, rotation.
//!
//! Every type deserializes from TOML/JSON with unknown fields rejected, so a
//! scenario file can embed a `[stub]` table; durations are integer `_ms` fields.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::error::ConfigError;

/// Largest latency any model may produce or configure, in milliseconds.
pub const MAX_LATENCY_MS: u64 = 60_000;
/// Largest delay the `timeout` fault may use, in milliseconds.
pub const MAX_TIMEOUT_DELAY_MS: u64 = 600_000;
/// Largest accepted log-normal `sigma`.
pub const MAX_SIGMA: f64 = 5.0;

/// Everything that shapes the stub's answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StubConfig {
    /// Seed of every latency and fault draw; same seed, same answers.
    pub seed: u64,
    /// How long each answer takes.
    pub latency: Latency,
    /// Probabilities of each injected fault.
    pub faults: Faults,
    /// The API key the stub accepts; `None` accepts any key (or none).
    pub api_key: Option<String>,
    /// Calls one of the two wiremock backends takes before it is reset (the
    /// other takes every call meanwhile); keeps the stub's memory flat.
    pub rotate_after_requests: u64,
    /// Most request records the ledger keeps in detail (per-connection counts
    /// are always kept); bounds the ledger's memory on very long runs.
    pub ledger_request_limit: u64,
}

impl Default for StubConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            latency: Latency::default(),
            faults: Faults::default(),
            api_key: None,
            rotate_after_requests: 500,
            ledger_request_limit: 2_000_000,
        }
    }
}

impl StubConfig {
    /// Checks every field, naming the first invalid one.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.latency.validate()?;
        self.faults.validate()?;
        if self.rotate_after_requests == 0 {
            return Err(ConfigError::new(
                "rotate_after_requests",
                "must be at least 1 (500 is a good value)",
            ));
        }
        Ok(())
    }
}

/// Latency model of the stub's answers, drawn per request from the seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Latency {
    /// Always the same delay.
    Fixed {
        /// Delay in milliseconds.
        ms: u64,
    },
    /// Uniformly distributed between `min_ms` and `max_ms` (inclusive).
    Uniform {
        /// Smallest delay in milliseconds.
        min_ms: u64,
        /// Largest delay in milliseconds.
        max_ms: u64,
    },
    /// Log-normal around `median_ms`, spread by `sigma` (capped at 60 s).
    LogNormal {
        /// Median delay in milliseconds.
        median_ms: u64,
        /// Standard deviation of the underlying normal distribution.
        sigma: f64,
    },
}

impl Default for Latency {
    fn default() -> Self {
        Latency::Fixed { ms: 0 }
    }
}

impl Latency {
    /// Checks bounds: `min_ms <= max_ms`, `0 <= sigma <= 5`, every delay <= 60 s.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let too_long = |field: &'static str| {
            ConfigError::new(field, format!("must be at most {MAX_LATENCY_MS} ms"))
        };
        match *self {
            Latency::Fixed { ms } if ms > MAX_LATENCY_MS => Err(too_long("latency.ms")),
            Latency::Uniform { min_ms, max_ms } => {
                if max_ms > MAX_LATENCY_MS {
                    Err(too_long("latency.max_ms"))
                } else if min_ms > max_ms {
                    Err(ConfigError::new(
                        "latency.min_ms",
                        format!("{min_ms} is larger than latency.max_ms ({max_ms})"),
                    ))
                } else {
                    Ok(())
                }
            }
            Latency::LogNormal { median_ms, sigma } => {
                if median_ms > MAX_LATENCY_MS {
                    Err(too_long("latency.median_ms"))
                } else if !(0.0..=MAX_SIGMA).contains(&sigma) {
                    Err(ConfigError::new(
                        "latency.sigma",
                        format!("{sigma} is outside 0..={MAX_SIGMA}"),
                    ))
                } else {
                    Ok(())
                }
            }
            Latency::Fixed { .. } => Ok(()),
        }
    }
}

impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Latency::Fixed { ms } => write!(f, "fixed:{ms}"),
            Latency::Uniform { min_ms, max_ms } => write!(f, "uniform:{min_ms}..{max_ms}"),
            Latency::LogNormal { median_ms, sigma } => write!(f, "lognormal:{median_ms},{sigma}"),
        }
    }
}

impl FromStr for Latency {
    type Err = ConfigError;

    /// Parses `fixed:50`, `uniform:20..120` or `lognormal:50,0.5` (milliseconds).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            ConfigError::new(
                "latency",
                format!("`{s}` is not one of fixed:MS, uniform:MIN..MAX, lognormal:MEDIAN,SIGMA"),
            )
        };
        let (model, args) = s.split_once(':').ok_or_else(bad)?;
        let ms = |v: &str| v.trim().parse::<u64>().map_err(|_| bad());
        let latency = match model.trim() {
            "fixed" => Latency::Fixed { ms: ms(args)? },
            "uniform" => {
                let (lo, hi) = args.split_once("..").ok_or_else(bad)?;
                Latency::Uniform {
                    min_ms: ms(lo)?,
                    max_ms: ms(hi)?,
                }
            }
            "lognormal" | "log-normal" => {
                let (median, sigma) = args.split_once(',').ok_or_else(bad)?;
                Latency::LogNormal {
                    median_ms: ms(median)?,
                    sigma: sigma.trim().parse().map_err(|_| bad())?,
                }
            }
            _ => return Err(bad()),
        };
        latency.validate()?;
        Ok(latency)
    }
}

/// Probability (0..=1) of each injected fault; they are exclusive, so their
/// sum must not exceed 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// `200 {"Response":"False","Error":"Movie not found!"}` for a known film.
    pub not_found: f64,
    /// HTTP 500 with a plain-text body.
    pub http_500: f64,
    /// `401 {"Response":"False","Error":"Request limit reached!"}`.
    pub rate_limit: f64,
    /// HTTP 200 whose JSON body is cut in half.
    pub malformed_json: f64,
    /// The normal answer, but only after `timeout_delay_ms`.
    pub timeout: f64,
    /// Delay used by the `timeout` fault, in milliseconds.
    pub timeout_delay_ms: u64,
    /// The connection is reset (TCP RST) instead of answered.
    pub reset: f64,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            not_found: 0.0,
            http_500: 0.0,
            rate_limit: 0.0,
            malformed_json: 0.0,
            timeout: 0.0,
            timeout_delay_ms: 30_000,
            reset: 0.0,
        }
    }
}

/// One injected fault (or none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// Known film answered as unknown.
    NotFound,
    /// HTTP 500.
    Http500,
    /// HTTP 401 "Request limit reached!".
    RateLimit,
    /// Truncated JSON body.
    MalformedJson,
    /// Answer delayed by `timeout_delay_ms`.
    Timeout,
    /// Connection reset instead of an answer.
    Reset,
}

impl Fault {
    /// Every fault, in the order probabilities are stacked for a draw.
    pub const ALL: [Fault; 6] = [
        Fault::NotFound,
        Fault::Http500,
        Fault::RateLimit,
        Fault::MalformedJson,
        Fault::Timeout,
        Fault::Reset,
    ];

    /// The config field (and CLI name) of this fault.
    pub fn field(self) -> &'static str {
        match self {
            Fault::NotFound => "not_found",
            Fault::Http500 => "http_500",
            Fault::RateLimit => "rate_limit",
            Fault::MalformedJson => "malformed_json",
            Fault::Timeout => "timeout",
            Fault::Reset => "reset",
        }
    }
}

impl Faults {
    /// The configured probability of `fault`.
    pub fn probability(&self, fault: Fault) -> f64 {
        match fault {
            Fault::NotFound => self.not_found,
            Fault::Http500 => self.http_500,
            Fault::RateLimit => self.rate_limit,
            Fault::MalformedJson => self.malformed_json,
            Fault::Timeout => self.timeout,
            Fault::Reset => self.reset,
        }
    }

    /// Sets the probability of `fault`.
    pub fn set_probability(&mut self, fault: Fault, p: f64) {
        let slot = match fault {
            Fault::NotFound => &mut self.not_found,
            Fault::Http500 => &mut self.http_500,
            Fault::RateLimit => &mut self.rate_limit,
            Fault::MalformedJson => &mut self.malformed_json,
            Fault::Timeout => &mut self.timeout,
            Fault::Reset => &mut self.reset,
        };
        *slot = p;
    }

    /// Checks each probability is within 0..=1 and that they sum to at most 1.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut sum = 0.0;
        for fault in Fault::ALL {
            let p = self.probability(fault);
            if !(0.0..=1.0).contains(&p) {
                return Err(ConfigError::new(
                    fault.field(),
                    format!("probability {p} is outside 0..=1"),
                ));
            }
            sum += p;
        }
        if sum > 1.0 + 1e-9 {
            return Err(ConfigError::new(
                "faults",
                format!("probabilities sum to {sum}, which is more than 1"),
            ));
        }
        if self.timeout_delay_ms > MAX_TIMEOUT_DELAY_MS {
            return Err(ConfigError::new(
                "faults.timeout_delay_ms",
                format!("must be at most {MAX_TIMEOUT_DELAY_MS} ms"),
            ));
        }
        Ok(())
    }
}

impl FromStr for Fault {
    type Err = ConfigError;

    /// Parses a fault name: `not-found`, `http-500`, `rate-limit`,
    /// `malformed-json`, `timeout`, `reset` (underscores also accepted).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().replace('-', "_");
        Fault::ALL
            .into_iter()
            .find(|f| f.field() == norm)
            .ok_or_else(|| {
                ConfigError::new(
                    "fault",
                    format!(
                        "`{s}` is not one of not-found, http-500, rate-limit, malformed-json, timeout, reset"
                    ),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_toml_roundtrips() {
        let cfg = StubConfig::default();
        cfg.validate().expect("default valid");
        let text = toml::to_string(&cfg).expect("serialize");
        let back: StubConfig = toml::from_str(&text).expect("parse");
        assert_eq!(back, cfg);
    }

    #[test]
    fn toml_table_parses_and_rejects_unknown_fields() {
        let cfg: StubConfig = toml::from_str(
            "seed = 7\nlatency = { model = \"uniform\", min_ms = 20, max_ms = 120 }\n[faults]\nreset = 0.1\n",
        )
        .expect("parse");
        assert_eq!(
            cfg.latency,
            Latency::Uniform {
                min_ms: 20,
                max_ms: 120
            }
        );
        assert_eq!(cfg.faults.reset, 0.1);
        assert!(toml::from_str::<StubConfig>("sed = 7").is_err());
        assert!(toml::from_str::<StubConfig>("[faults]\nresett = 0.1").is_err());
    }

    #[test]
    fn validation_names_the_field() {
        let mut cfg = StubConfig::default();
        cfg.faults.http_500 = 0.7;
        cfg.faults.reset = 0.6;
        let err = cfg.validate().expect_err("sum > 1").to_string();
        assert!(err.contains("faults") && err.contains("sum"), "{err}");
        cfg.faults.reset = 1.5;
        assert!(
            cfg.validate()
                .expect_err("p>1")
                .to_string()
                .contains("reset")
        );
        let bad = Latency::Uniform {
            min_ms: 9,
            max_ms: 3,
        };
        assert!(
            bad.validate()
                .expect_err("min>max")
                .to_string()
                .contains("min_ms")
        );
        let bad = Latency::LogNormal {
            median_ms: 9,
            sigma: -1.0,
        };
        assert!(
            bad.validate()
                .expect_err("sigma")
                .to_string()
                .contains("sigma")
        );
    }

    #[test]
    fn latency_parses_from_cli_text() {
        assert_eq!(
            "fixed:5".parse::<Latency>().ok(),
            Some(Latency::Fixed { ms: 5 })
        );
        assert_eq!(
            "uniform:20..120".parse::<Latency>().ok(),
            Some(Latency::Uniform {
                min_ms: 20,
                max_ms: 120
            })
        );
        assert_eq!(
            "lognormal:50,0.5".parse::<Latency>().ok(),
            Some(Latency::LogNormal {
                median_ms: 50,
                sigma: 0.5
            })
        );
        assert!("uniform:120..20".parse::<Latency>().is_err());
        assert!("gauss:1".parse::<Latency>().is_err());
        assert_eq!("http-500".parse::<Fault>().ok(), Some(Fault::Http500));
    }
}
