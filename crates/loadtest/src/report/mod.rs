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
    /// Removing an earlier run's file failed.
    #[error("cannot remove {path}: {source}")]
    Remove {
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

/// Files of the previous run that a new run removes when it starts, so that an
/// interrupted or failed run never leaves an older verdict or older measurements behind.
/// (`metrics.prom` and `metrics.openmetrics` stay: a textfile collector keeps showing the
/// last finished run until this one writes new ones.)
const PREVIOUS_RUN_FILES: [&str; 7] = [
    "summary.json",
    "summary.md",
    "junit.xml",
    "ledger.json",
    "goose-report.html",
    "rss.csv",
    "service.log",
];

/// Removes the previous run's files from `dir` (see [`PREVIOUS_RUN_FILES`]); tries every
/// file and returns the first failure.
pub fn clear_previous_run(dir: &Path) -> Result<(), ReportError> {
    let mut first_error = None;
    for name in PREVIOUS_RUN_FILES {
        let path = dir.join(name);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                first_error.get_or_insert(ReportError::Remove {
                    path: path.display().to_string(),
                    source,
                });
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Why a run ended without evaluating its gates.
#[derive(Debug, Clone, Copy)]
pub enum NotEvaluated<'a> {
    /// It could not be carried out (exit status 3); the reason.
    CouldNotRun(&'a str),
    /// The user interrupted it (exit status 130).
    Interrupted,
}

/// Writes `summary.json`, `summary.md` and `junit.xml` for a run that evaluated no gate, so
/// that a CI job still has a report to publish and nobody reads an older verdict.
pub fn write_not_evaluated(
    dir: &Path,
    scenario: &str,
    why: NotEvaluated<'_>,
) -> Result<(), ReportError> {
    use quick_junit::{NonSuccessKind, Report as JunitReport, TestCase, TestCaseStatus, TestSuite};

    let write = |name: &str, bytes: Vec<u8>| {
        let path = dir.join(name);
        memwatch::write_atomically(&path, &bytes).map_err(|source| ReportError::Write {
            path: path.display().to_string(),
            source,
        })
    };
    let (json, markdown, message, detail) = match why {
        NotEvaluated::CouldNotRun(reason) => (
            serde_json::json!({ "scenario": scenario, "passed": false, "could_not_run": reason }),
            format!(
                "## oomguard · `{scenario}` · ⛔ could not run\n\nNo gate was evaluated (exit status 3).\n\n{}",
                markdown::code_block(reason)
            ),
            "the scenario could not be run",
            reason.to_string(),
        ),
        NotEvaluated::Interrupted => {
            // A half of a reproduction that never started has neither file.
            let kept: Vec<&str> = ["rss.csv", "service.log"]
                .into_iter()
                .filter(|name| dir.join(name).is_file())
                .collect();
            let detail = match kept.as_slice() {
                [] => "interrupted by the user before the gates were evaluated".to_string(),
                files => format!(
                    "interrupted by the user before the gates were evaluated; {} hold{} what \
                     was measured so far",
                    files.join(" and "),
                    if files.len() == 1 { "s" } else { "" }
                ),
            };
            (
                serde_json::json!({ "scenario": scenario, "passed": false, "interrupted": detail }),
                format!(
                    "## oomguard · `{scenario}` · ⏹ interrupted\n\nNo gate was evaluated (exit status 130): {detail}.\n"
                ),
                "the run was interrupted",
                detail.to_string(),
            )
        }
    };
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
    status.set_message(message);
    status.set_description(detail);
    let mut case = TestCase::new("run", status);
    case.set_classname(format!("oomguard.{scenario}"));
    let mut suite = TestSuite::new(format!("oomguard.{scenario}"));
    suite.add_test_case(case);
    let mut report = JunitReport::new("oomguard");
    report.add_test_suite(suite);
    let xml = report.to_string().map_err(|e| ReportError::Render {
        file: "junit.xml",
        message: e.to_string(),
    })?;
    // Every file is tried (JUnit first: it is what CI publishes); the first failure is
    // returned.
    let results = [
        write("junit.xml", xml.into_bytes()),
        write("summary.json", format!("{json:#}\n").into_bytes()),
        write("summary.md", markdown.into_bytes()),
    ];
    results.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interrupted_detail(dir: &Path) -> String {
        write_not_evaluated(dir, "t", NotEvaluated::Interrupted).expect("report written");
        let text = std::fs::read_to_string(dir.join("summary.json")).expect("summary.json");
        let summary: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        summary["interrupted"].as_str().expect("detail").to_string()
    }

    #[test]
    fn an_interrupted_report_names_only_the_measurements_that_exist() {
        let dir = tempfile::tempdir().expect("temp dir");
        let never_started = interrupted_detail(dir.path());
        assert!(!never_started.contains("rss.csv"), "{never_started}");
        std::fs::write(dir.path().join("rss.csv"), "t,rss\n").expect("write");
        let sampled = interrupted_detail(dir.path());
        assert!(
            sampled.ends_with("rss.csv holds what was measured so far"),
            "{sampled}"
        );
        std::fs::write(dir.path().join("service.log"), "up\n").expect("write");
        let both = interrupted_detail(dir.path());
        assert!(
            both.ends_with("rss.csv and service.log hold what was measured so far"),
            "{both}"
        );
        let junit = std::fs::read_to_string(dir.path().join("junit.xml")).expect("junit.xml");
        assert!(junit.contains("service.log hold"), "{junit}");
    }
}
