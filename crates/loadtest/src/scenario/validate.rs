//! Checks of values that parse but make no sense; every error names the key and the fix.

use std::path::Path;

use super::template::{BUILT_IN, Placeholders, expand};
use super::{LimitModeSpec, Scenario, ScenarioError};

/// Largest fixture a scenario may ask for.
const MAX_ROWS: u64 = 10_000_000;

/// Validates `scenario` as read from `file`.
pub fn validate(file: &Path, scenario: &Scenario) -> Result<(), ScenarioError> {
    let invalid = |key: &str, problem: String, help: &str| ScenarioError::Invalid {
        file: file.to_path_buf(),
        key: key.to_string(),
        problem,
        help: help.to_string(),
    };
    let label_ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    if !label_ok(&scenario.name) {
        return Err(invalid(
            "name",
            format!("is {:?}", scenario.name),
            "a non-empty name of letters, digits, '-', '_' or '.' (it becomes a metric label)",
        ));
    }
    let service = &scenario.service;
    if service.command.trim().is_empty() {
        return Err(invalid(
            "service.command",
            "is empty".into(),
            "the program to start, e.g. \"python3\" or \"{enrichment_service}\"",
        ));
    }
    if let Some(name) = &service.name
        && !label_ok(name)
    {
        return Err(invalid(
            "service.name",
            format!("is {name:?}"),
            "letters, digits, '-', '_' or '.'",
        ));
    }
    if !service.ready_path.starts_with('/') {
        return Err(invalid(
            "service.ready_path",
            format!("is {:?}", service.ready_path),
            "a path starting with '/', e.g. \"/healthz\"",
        ));
    }
    if service.memory_limit.is_none() && service.limit_mode != LimitModeSpec::Auto {
        return Err(invalid(
            "service.limit_mode",
            format!(
                "is \"{}\", but service.memory_limit is not set, so there is no limit to enforce",
                service.limit_mode.name()
            ),
            "set service.memory_limit (e.g. \"512MiB\", the instance size), or remove service.limit_mode",
        ));
    }
    if !(100..=3_600_000).contains(&service.ready_timeout_ms) {
        return Err(invalid(
            "service.ready_timeout_ms",
            format!("is {}", service.ready_timeout_ms),
            "100 to 3600000 (milliseconds)",
        ));
    }
    if service.shutdown_grace_ms > 600_000 {
        return Err(invalid(
            "service.shutdown_grace_ms",
            format!("is {}", service.shutdown_grace_ms),
            "0 to 600000 (milliseconds)",
        ));
    }
    if let Some(limit) = service.memory_limit
        && limit.0 < 16 * 1024 * 1024
    {
        return Err(invalid(
            "service.memory_limit",
            format!("is {limit}"),
            "at least 16MiB, e.g. \"512MiB\"",
        ));
    }
    if !(1..=MAX_ROWS).contains(&scenario.fixture.rows) {
        return Err(invalid(
            "fixture.rows",
            format!("is {}", scenario.fixture.rows),
            "1 to 10000000 rows",
        ));
    }
    if let Err(problem) = scenario.stub.validate() {
        return Err(invalid(
            "stub",
            problem.to_string(),
            "see the [stub] keys in the README's scenario reference",
        ));
    }
    let load = &scenario.load;
    if !load.path.starts_with('/') {
        return Err(invalid(
            "load.path",
            format!("is {:?}", load.path),
            "a path starting with '/', e.g. \"/movies?limit=1000\"",
        ));
    }
    if !(1..=10_000).contains(&load.users) {
        return Err(invalid(
            "load.users",
            format!("is {}", load.users),
            "1 to 10000 concurrent users",
        ));
    }
    if !(load.increase_rate.is_finite() && load.increase_rate > 0.0) {
        return Err(invalid(
            "load.increase_rate",
            format!("is {}", load.increase_rate),
            "users started per second, greater than 0, e.g. 1 or 0.5",
        ));
    }
    match (load.iterations, load.run_time_s) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "load.iterations",
                "and `load.run_time_s` are both set".into(),
                "keep one: an exact count per user (iterations) or a duration (run_time_s)",
            ));
        }
        (Some(0), None) => {
            return Err(invalid(
                "load.iterations",
                "is 0".into(),
                "1 or more requests per user",
            ));
        }
        (None, Some(0)) => {
            return Err(invalid(
                "load.run_time_s",
                "is 0".into(),
                "1 or more seconds",
            ));
        }
        _ => {}
    }
    if load.request_timeout_ms == 0 {
        return Err(invalid(
            "load.request_timeout_ms",
            "is 0".into(),
            "1 or more milliseconds, e.g. 300000",
        ));
    }
    if !(1..=86_400).contains(&load.max_duration_s) {
        return Err(invalid(
            "load.max_duration_s",
            format!("is {}", load.max_duration_s),
            "1 to 86400 seconds; the load always stops by then",
        ));
    }
    if let Some(run_time) = load.run_time_s
        && run_time > load.max_duration_s
    {
        return Err(invalid(
            "load.run_time_s",
            format!(
                "({run_time}) is longer than load.max_duration_s ({})",
                load.max_duration_s
            ),
            "raise load.max_duration_s or shorten the run",
        ));
    }
    if let Some(warmup) = &load.warmup {
        if !warmup.path.starts_with('/') {
            return Err(invalid(
                "load.warmup.path",
                format!("is {:?}", warmup.path),
                "a path starting with '/', e.g. \"/movies?limit=50\"",
            ));
        }
        if !(1..=1_000).contains(&warmup.iterations) {
            return Err(invalid(
                "load.warmup.iterations",
                format!("is {}", warmup.iterations),
                "1 to 1000 requests",
            ));
        }
    }
    let gates = &scenario.gates;
    if let Some(budget) = gates.rss_budget
        && budget.0 < 1024 * 1024
    {
        return Err(invalid(
            "gates.rss_budget",
            format!("is {budget}"),
            "at least 1MiB, e.g. \"512MiB\" (or \"off\" to turn the memory gate off)",
        ));
    }
    if !(0.0..=1.0).contains(&gates.max_error_rate) {
        return Err(invalid(
            "gates.max_error_rate",
            format!("is {}", gates.max_error_rate),
            "a share from 0.0 (no error tolerated) to 1.0",
        ));
    }
    if let Some(growth) = gates.max_rss_growth_mib_per_min
        && !(growth.is_finite() && growth >= 0.0)
    {
        return Err(invalid(
            "gates.max_rss_growth_mib_per_min",
            format!("is {growth}"),
            "0 or more MiB per minute, e.g. 2.0",
        ));
    }
    if !(1..=10_000).contains(&scenario.sampling.interval_ms) {
        return Err(invalid(
            "sampling.interval_ms",
            format!("is {}", scenario.sampling.interval_ms),
            "1 to 10000 milliseconds (20 is the default)",
        ));
    }
    if !scenario.export.live_metrics_addr.ip().is_loopback() {
        return Err(invalid(
            "export.live_metrics_addr",
            format!("is {}", scenario.export.live_metrics_addr),
            "a loopback address such as \"127.0.0.1:9464\" (port 0 = any free port)",
        ));
    }
    check_placeholders(file, scenario)
}

/// Every `{name}` used by the service must be built in or defined under `[vars]`.
fn check_placeholders(file: &Path, scenario: &Scenario) -> Result<(), ScenarioError> {
    let mut known = Placeholders::default();
    for name in BUILT_IN {
        known.set(name, "");
    }
    for name in scenario.vars.keys() {
        known.set(name, "");
    }
    let service = &scenario.service;
    let mut fields: Vec<(String, &str)> = vec![("service.command".into(), &service.command)];
    for (i, arg) in service.args.iter().enumerate() {
        fields.push((format!("service.args[{i}]"), arg));
    }
    for (name, value) in &service.env {
        fields.push((format!("service.env.{name}"), value));
    }
    if let Some(cwd) = &service.cwd {
        fields.push(("service.cwd".into(), cwd));
    }
    for (key, text) in fields {
        if let Err(name) = expand(text, &known) {
            return Err(ScenarioError::UnknownPlaceholder {
                file: file.to_path_buf(),
                key,
                name,
                known: known.names(),
            });
        }
    }
    Ok(())
}
