//! JSON summary of a run.

use crate::sample::MemoryReport;

/// Renders the report as pretty JSON (sizes in bytes, durations in seconds).
pub fn render_json(report: &MemoryReport) -> String {
    // MemoryReport holds only plain numbers, strings and vectors: serialization cannot fail.
    serde_json::to_string_pretty(report).unwrap_or_default()
}
