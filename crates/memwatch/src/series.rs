//! A bounded time series that thins itself without losing its peak.

use crate::sample::Sample;

/// Keeps at most `max_points` samples. When full, neighbouring points are merged pairwise
/// keeping the one with the larger RSS, and from then on every `stride` incoming samples
/// are reduced to their largest. The sample with the highest RSS therefore always survives
/// with its exact values; the series stays evenly spread over the whole run.
#[derive(Debug, Clone)]
pub(crate) struct Series {
    points: Vec<Sample>,
    max_points: usize,
    stride: usize,
    pending: Option<Sample>,
    pending_count: usize,
}

fn larger(a: Sample, b: Sample) -> Sample {
    let key = |s: &Sample| (s.rss_bytes, s.rss_bytes + s.swap_bytes);
    if key(&b) > key(&a) { b } else { a }
}

impl Series {
    pub fn new(max_points: usize) -> Self {
        Self {
            points: Vec::new(),
            max_points: max_points.max(2),
            stride: 1,
            pending: None,
            pending_count: 0,
        }
    }

    pub fn push(&mut self, sample: Sample) {
        self.pending = Some(match self.pending.take() {
            Some(p) => larger(p, sample),
            None => sample,
        });
        self.pending_count += 1;
        if self.pending_count < self.stride {
            return;
        }
        self.pending_count = 0;
        self.points.extend(self.pending.take());
        if self.points.len() >= self.max_points {
            self.points = self
                .points
                .chunks(2)
                .map(|pair| pair.iter().copied().reduce(larger).unwrap_or(pair[0]))
                .collect();
            self.stride *= 2;
        }
    }

    /// The thinned series, including a partly filled last bucket.
    pub fn finish(mut self) -> Vec<Sample> {
        self.points.extend(self.pending.take());
        self.points
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn stays_bounded_and_keeps_the_exact_peak() {
        let mut series = Series::new(16);
        let peak_at = 737;
        for i in 0..10_000u64 {
            let rss = if i == peak_at {
                1 << 30
            } else {
                (i % 97) * 1000
            };
            series.push(Sample {
                elapsed: Duration::from_millis(i * 20),
                rss_bytes: rss,
                ..Sample::default()
            });
        }
        let points = series.finish();
        assert!(points.len() <= 16, "{}", points.len());
        assert!(points.len() >= 8, "{}", points.len());
        let peak = points.iter().max_by_key(|s| s.rss_bytes).expect("points");
        assert_eq!(peak.rss_bytes, 1 << 30);
        assert_eq!(peak.elapsed, Duration::from_millis(peak_at * 20));
        assert!(points.windows(2).all(|w| w[0].elapsed < w[1].elapsed));
    }
}
