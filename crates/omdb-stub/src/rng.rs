//! Deterministic draws: each request's latency and fault depend only on
//! `(seed, request key, occurrence of that key)`, never on arrival order
//! between different keys, so a rerun with the same seed repeats.

use rand::{Rng, SeedableRng, rngs::StdRng};
use rand_distr::{Distribution, LogNormal};
use std::collections::HashMap;
use std::time::Duration;

use crate::config::{Fault, Faults, Latency, MAX_LATENCY_MS};

/// FNV-1a over the key, stable across platforms and Rust versions.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// SplitMix64 finaliser: spreads nearby inputs over the whole range.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// What the dice said for one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Draw {
    /// Latency before the answer.
    pub latency: Duration,
    /// The fault to inject, if any.
    pub fault: Option<Fault>,
}

/// Counts occurrences per request key and draws from the seeded stream.
#[derive(Debug, Default)]
pub struct Dice {
    seed: u64,
    seen: HashMap<u64, u64>,
}

impl Dice {
    /// A new die for `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            seen: HashMap::new(),
        }
    }

    /// Draws latency and fault for the next occurrence of `key`.
    pub fn draw(&mut self, key: &str, latency: &Latency, faults: &Faults) -> Draw {
        let key_hash = fnv1a(key.as_bytes());
        let occurrence = self.seen.entry(key_hash).or_insert(0);
        let n = *occurrence;
        *occurrence += 1;
        draw_for(self.seed, key_hash, n, latency, faults)
    }
}

fn draw_for(seed: u64, key_hash: u64, occurrence: u64, latency: &Latency, faults: &Faults) -> Draw {
    let stream = mix(mix(seed ^ mix(key_hash)) ^ occurrence);
    let mut rng = StdRng::seed_from_u64(stream);
    let u: f64 = rng.random();
    let mut acc = 0.0;
    let mut fault = None;
    for f in Fault::ALL {
        acc += faults.probability(f);
        if u < acc {
            fault = Some(f);
            break;
        }
    }
    let ms = match *latency {
        Latency::Fixed { ms } => ms as f64,
        Latency::Uniform { min_ms, max_ms } => rng.random_range(min_ms as f64..=max_ms as f64),
        Latency::LogNormal { median_ms, sigma } => {
            match LogNormal::new((median_ms.max(1) as f64).ln(), sigma) {
                Ok(d) => d.sample(&mut rng),
                Err(_) => median_ms as f64,
            }
        }
    };
    let ms = ms.clamp(0.0, MAX_LATENCY_MS as f64);
    Draw {
        latency: Duration::from_micros((ms * 1000.0) as u64),
        fault,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_key_and_occurrence_repeat_regardless_of_order() {
        let lat = Latency::Uniform {
            min_ms: 20,
            max_ms: 120,
        };
        let faults = Faults {
            reset: 0.3,
            ..Faults::default()
        };
        let mut a = Dice::new(42);
        let mut b = Dice::new(42);
        let a1 = a.draw("i:tt1", &lat, &faults);
        let a2 = a.draw("i:tt2", &lat, &faults);
        let b2 = b.draw("i:tt2", &lat, &faults);
        let b1 = b.draw("i:tt1", &lat, &faults);
        assert_eq!((a1, a2), (b1, b2));
        assert_ne!(
            a.draw("i:tt1", &lat, &faults),
            a1,
            "second occurrence differs"
        );
        let mut c = Dice::new(43);
        assert_ne!(c.draw("i:tt1", &lat, &faults), a1, "seed matters");
    }

    #[test]
    fn uniform_latency_stays_in_bounds_and_spreads() {
        let lat = Latency::Uniform {
            min_ms: 20,
            max_ms: 120,
        };
        let mut d = Dice::new(1);
        let ms: Vec<u128> = (0..2000)
            .map(|i| {
                d.draw(&format!("k{i}"), &lat, &Faults::default())
                    .latency
                    .as_millis()
            })
            .collect();
        assert!(ms.iter().all(|m| (20..=120).contains(m)));
        assert!(ms.iter().any(|m| *m < 30) && ms.iter().any(|m| *m > 110));
    }
}
