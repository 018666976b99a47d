//! Scenario files: parsing, `--set` overrides, validation and placeholders.

mod model;
mod overrides;
mod template;
mod validate;

use std::path::{Path, PathBuf};

pub use model::{
    BudgetMeasure, ExportSpec, FixtureSpec, GateMode, GateSpec, LimitModeSpec, LoadSpec,
    SamplingSpec, Scenario, ServiceSpec, WarmupSpec,
};
pub use overrides::Override;
pub use template::{Placeholders, expand};

/// Why a scenario could not be used. Every variant names the file and, where there is one,
/// the key; the `help` says what is accepted.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{file}: cannot read the scenario: {source}")]
    Read {
        /// The scenario file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// TOML syntax, an unknown key or a value of the wrong type.
    #[error("{file}: {message}")]
    Parse {
        /// The scenario file.
        file: PathBuf,
        /// The parser's message (names the line, the key and the accepted keys).
        message: String,
    },
    /// A key with a value outside what is accepted.
    #[error("{file}: `{key}` {problem}\n  help: {help}")]
    Invalid {
        /// The scenario file.
        file: PathBuf,
        /// Dotted key, e.g. `load.users`.
        key: String,
        /// What is wrong.
        problem: String,
        /// What is accepted.
        help: String,
    },
    /// A `--set key=value` that is not of that form.
    #[error(
        "--set {given}: {problem}\n  help: write --set section.key=value, e.g. --set load.users=4"
    )]
    BadOverride {
        /// What was given.
        given: String,
        /// What is wrong.
        problem: String,
    },
    /// A `{name}` placeholder nobody defines.
    #[error(
        "{file}: `{key}` uses the unknown placeholder {{{name}}}\n  help: known placeholders: {known}; define your own under [vars]"
    )]
    UnknownPlaceholder {
        /// The scenario file.
        file: PathBuf,
        /// Dotted key holding the placeholder.
        key: String,
        /// The placeholder's name.
        name: String,
        /// The names that are defined.
        known: String,
    },
}

/// Reads, overrides and validates a scenario file.
pub fn load_scenario(file: &Path, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(file).map_err(|source| ScenarioError::Read {
        file: file.to_path_buf(),
        source,
    })?;
    parse_scenario(file, &text, overrides)
}

/// serde names the Rust type a value should have ("expected usize"): say it in words.
fn plain_type_names(message: &str) -> String {
    const WHOLE: [&str; 8] = ["usize", "u64", "u32", "u16", "u8", "i64", "i32", "isize"];
    let mut text = message.to_string();
    for rust in WHOLE {
        text = text.replace(&format!("expected {rust}"), "expected a whole number");
    }
    for rust in ["f64", "f32"] {
        text = text.replace(&format!("expected {rust}"), "expected a number");
    }
    text
}

/// Parses scenario text as if it came from `file`.
pub fn parse_scenario(
    file: &Path,
    text: &str,
    overrides: &[Override],
) -> Result<Scenario, ScenarioError> {
    let parse_error = |message: String| ScenarioError::Parse {
        file: file.to_path_buf(),
        message: plain_type_names(&message),
    };
    let scenario: Scenario = if overrides.is_empty() {
        // Straight from the text, so that errors carry the line and column.
        toml::from_str(text).map_err(|e| parse_error(e.to_string()))?
    } else {
        let mut table: toml::Table =
            toml::from_str(text).map_err(|e| parse_error(e.to_string()))?;
        for o in overrides {
            o.apply(&mut table);
        }
        let listed = overrides
            .iter()
            .map(|o| format!("--set {}", o.given()))
            .collect::<Vec<_>>()
            .join(" ");
        serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(
            |e: serde_path_to_error::Error<toml::de::Error>| {
                parse_error(format!(
                    "`{}`: {} (after {listed})",
                    e.path(),
                    e.inner().message()
                ))
            },
        )?
    };
    validate::validate(file, &scenario)?;
    Ok(scenario)
}
