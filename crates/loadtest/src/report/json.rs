//! `summary.json`: the whole outcome, for machines.

use super::{Report, ReportError};
use crate::outcome::RunOutcome;

/// The JSON summary.
pub struct Json;

impl Report for Json {
    fn file_name(&self) -> &'static str {
        "summary.json"
    }
    fn kind(&self) -> &'static str {
        "json"
    }
    fn render(&self, outcome: &RunOutcome) -> Result<Vec<u8>, ReportError> {
        let mut bytes = serde_json::to_vec_pretty(outcome).map_err(|e| ReportError::Render {
            file: self.file_name(),
            message: e.to_string(),
        })?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}
