//! Malformed scenarios and flags: exit status 2, and a message that names the key and the fix.

mod common;

use std::time::Duration;

use common::{run_loadtest, write_scenario};

const GOOD: &str = r#"
name = "bad-input"
[service]
command = "python3"
args = ["-c", "pass", "{port}"]
[load]
path = "/movies?limit=10"
users = 1
iterations = 1
"#;

/// (what is wrong, the scenario text, words the error must contain)
fn cases() -> Vec<(&'static str, String, Vec<&'static str>)> {
    let with = |from: &str, to: &str| {
        assert!(GOOD.contains(from), "{from}");
        GOOD.replacen(from, to, 1)
    };
    vec![
        (
            "unknown top-level key",
            format!("{GOOD}\nservic = 1\n"),
            vec!["servic", "expected one of"],
        ),
        (
            "unknown key in [load]",
            with("users = 1", "usrs = 1"),
            vec!["usrs", "users"],
        ),
        (
            "wrong type",
            with("users = 1", "users = \"three\""),
            vec!["users", "line", "expected a whole number"],
        ),
        (
            "missing service.command",
            with("command = \"python3\"", ""),
            vec!["command"],
        ),
        (
            "zero users",
            with("users = 1", "users = 0"),
            vec!["load.users", "help:"],
        ),
        (
            "count and duration",
            with("iterations = 1", "iterations = 1\nrun_time_s = 5"),
            vec!["load.iterations", "run_time_s"],
        ),
        (
            "bad size",
            format!("{GOOD}\n[gates]\nrss_budget = \"512QB\"\n"),
            vec!["rss_budget", "MiB"],
        ),
        (
            "bad gate mode",
            format!("{GOOD}\n[gates]\nclient_per_call = \"maybe\"\n"),
            vec!["maybe", "fail", "warn", "off"],
        ),
        (
            "error rate over 1",
            format!("{GOOD}\n[gates]\nmax_error_rate = 1.5\n"),
            vec!["gates.max_error_rate", "0.0"],
        ),
        (
            "unknown placeholder",
            with("\"{port}\"", "\"{prot}\""),
            vec!["{prot}", "service.args[2]", "{port}"],
        ),
        (
            "latency min above max",
            format!(
                "{GOOD}\n[stub]\nlatency = {{ model = \"uniform\", min_ms = 90, max_ms = 10 }}\n"
            ),
            vec!["min_ms"],
        ),
        (
            "path without a slash",
            with("path = \"/movies?limit=10\"", "path = \"movies\""),
            vec!["load.path", "'/'"],
        ),
        (
            "limit mode without a limit",
            with("args = ", "limit_mode = \"cgroup\"\nargs = "),
            vec!["service.limit_mode", "service.memory_limit"],
        ),
        ("TOML syntax", format!("{GOOD}\n[load\n"), vec!["line"]),
    ]
}

#[test]
fn every_malformed_scenario_exits_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases = cases();
    assert!(cases.len() >= 10);
    for (i, (what, text, words)) in cases.into_iter().enumerate() {
        let file = write_scenario(dir.path(), &format!("bad{i}"), &text);
        // `run` validates before it starts anything: nothing is spawned for a bad scenario.
        let done = run_loadtest(
            &["run", file.to_str().unwrap(), "--service-bin", "/bin/true"],
            Duration::from_secs(60),
        );
        assert_eq!(
            done.code,
            Some(2),
            "{what}: expected exit 2\n{}",
            done.all()
        );
        assert!(
            done.stderr.contains(file.to_str().unwrap()),
            "{what}: the error must name the file\n{}",
            done.all()
        );
        for word in words {
            assert!(
                done.stderr.contains(word),
                "{what}: the error must mention {word:?}\n{}",
                done.all()
            );
        }
    }
}

#[test]
fn the_good_scenario_is_accepted_by_check() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_scenario(dir.path(), "good", GOOD);
    let done = run_loadtest(&["check", file.to_str().unwrap()], Duration::from_secs(60));
    assert_eq!(done.code, Some(0), "{}", done.all());
}

#[test]
fn bad_flags_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_scenario(dir.path(), "good", GOOD);
    let file = file.to_str().unwrap();
    for (args, word) in [
        (vec!["run", file, "--set", "load.users"], "--set"),
        (vec!["run", file, "--set", "load.users=0"], "load.users"),
        (vec!["run", file, "--set", "load.nope=1"], "nope"),
        (vec!["run", "/nonexistent/scenario.toml"], "cannot read"),
        (vec!["run", file, "--profile", "fast"], "fast"),
        (vec!["frobnicate"], "frobnicate"),
    ] {
        let done = run_loadtest(&args, Duration::from_secs(60));
        assert_eq!(done.code, Some(2), "{args:?}\n{}", done.all());
        assert!(
            done.stderr.contains(word),
            "{args:?} must mention {word:?}\n{}",
            done.all()
        );
    }
}

#[test]
fn every_shipped_scenario_is_valid() {
    let dir = common::workspace().join("scenarios");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let done = run_loadtest(&["check", path.to_str().unwrap()], Duration::from_secs(60));
            assert_eq!(done.code, Some(0), "{}\n{}", path.display(), done.all());
            n += 1;
        }
    }
    assert!(n >= 3, "scenarios/ holds {n} scenarios");
}
