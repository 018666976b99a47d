//! CSV of the samples (the same columns the sampler streams while it runs).

use crate::error::MemwatchError;
use crate::sample::Sample;

/// Renders samples as CSV with a header row (`elapsed_seconds,rss_bytes,…`).
pub fn render_csv(samples: &[Sample]) -> Result<Vec<u8>, MemwatchError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for sample in samples {
        writer.serialize(sample)?;
    }
    writer
        .into_inner()
        .map_err(|e| MemwatchError::Csv(e.into_error().into()))
}
