//! `{name}` placeholders in the service's command, arguments and environment.

use std::collections::BTreeMap;

/// The names a scenario can use, with their values for one run.
#[derive(Debug, Clone, Default)]
pub struct Placeholders {
    values: BTreeMap<String, String>,
}

/// Placeholders the harness itself defines (the scenario's `[vars]` add to these).
pub const BUILT_IN: &[&str] = &[
    "port",
    "omdb_url",
    "db_path",
    "api_key",
    "workspace",
    "out_dir",
    "scenario",
    "enrichment_service",
];

impl Placeholders {
    /// Defines (or redefines) one name.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.values.insert(name.to_string(), value.into());
    }

    /// Every defined name, for error messages.
    pub fn names(&self) -> String {
        self.values
            .keys()
            .map(|k| format!("{{{k}}}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whether `name` is defined.
    pub fn contains(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }
}

/// Replaces every `{name}` in `text`; `{{` and `}}` stand for literal braces.
/// Returns the first unknown name as the error.
pub fn expand(text: &str, placeholders: &Placeholders) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
        } else if let Some(stripped) = tail.strip_prefix('{') {
            let end = stripped
                .find('}')
                .ok_or_else(|| format!("{stripped} (its closing brace is missing)"))?;
            let name = &stripped[..end];
            let value = placeholders
                .values
                .get(name)
                .ok_or_else(|| name.to_string())?;
            out.push_str(value);
            rest = &stripped[end + 1..];
        } else {
            out.push('}');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_known_names_and_escapes() {
        let mut p = Placeholders::default();
        p.set("port", "8080");
        assert_eq!(
            expand("--port={port} {{x}}", &p).unwrap(),
            "--port=8080 {x}"
        );
        assert_eq!(expand("{nope}", &p).unwrap_err(), "nope");
    }
}
