//! Report files, one module per format (the hyperfine shape): each format renders a
//! [`RunOutcome`] to bytes; [`write_reports`] writes them all atomically.

mod json;
mod junit;
mod markdown;
mod metrics;
pub mod terminal;

use std::collections::BTreeMap;
use std::path::Path;

use crate::outcome::RunOutcome;

/// One report format.
pub trait Report {
    /// The file name inside the out directory.
    fn file_name(&self) -> &'static str;
    /// What the `files` map calls it.
    fn kind(&self) -> &'static str;
    /// The file's bytes.
    fn render(&self, outcome: &RunOutcome) -> Result<Vec<u8>, ReportError>;
}

/// A report that could not be rendered or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Serialization failed.
    #[error("cannot render {file}: {message}")]
    Render {
        /// File name.
        file: &'static str,
        /// Why.
        message: String,
    },
    /// Writing failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// Path.
        path: String,
        /// I/O error.
        source: std::io::Error,
    },
}

/// Every format written at the end of a run.
pub fn all_formats() -> Vec<Box<dyn Report>> {
    vec![
        Box::new(json::Json),
        Box::new(markdown::Markdown),
        Box::new(junit::Junit),
        Box::new(metrics::PrometheusText),
        Box::new(metrics::OpenMetrics),
    ]
}

/// Writes every format into `dir`, records them in `outcome.files`, and writes the JSON
/// last so that it lists every file.
pub fn write_reports(dir: &Path, outcome: &mut RunOutcome) -> Result<(), ReportError> {
    let formats = all_formats();
    let mut files: BTreeMap<String, String> = outcome.files.clone();
    for format in &formats {
        files.insert(
            format.kind().to_string(),
            dir.join(format.file_name()).display().to_string(),
        );
    }
    outcome.files = files;
    for format in &formats {
        let bytes = format.render(outcome)?;
        let path = dir.join(format.file_name());
        memwatch::write_atomically(&path, &bytes).map_err(|source| ReportError::Write {
            path: path.display().to_string(),
            source,
        })?;
    }
    Ok(())
}
