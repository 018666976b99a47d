//! `--set section.key=value` overrides applied to a scenario before it is typed.

use std::str::FromStr;

use super::ScenarioError;

/// One `--set dotted.key=value`; the value is read as TOML (`4`, `true`, `"x"`, `[1, 2]`)
/// and, when it is not valid TOML, as a plain string (`per-movie`). Where the key holds a
/// string already, or lies in a table of strings (`vars`, `service.env`), the value is
/// kept as the text given (`--set service.env.PORT=9` sets `"9"`).
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    given: String,
    path: Vec<String>,
    raw: String,
    value: toml::Value,
}

impl Override {
    /// The text as the user wrote it.
    pub fn given(&self) -> &str {
        &self.given
    }

    /// Writes the value into `table`, creating intermediate tables.
    pub fn apply(&self, table: &mut toml::Table) {
        let (last, parents) = self.path.split_last().expect("path is never empty");
        let mut current = table;
        for key in parents {
            let entry = current
                .entry(key.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if !entry.is_table() {
                *entry = toml::Value::Table(toml::Table::new());
            }
            current = entry.as_table_mut().expect("made a table above");
        }
        let string_table = matches!(parents, [p] if p == "vars")
            || matches!(parents, [a, b] if a == "service" && b == "env");
        let holds_string = current.get(last).is_some_and(toml::Value::is_str);
        let value = match &self.value {
            toml::Value::String(_) => self.value.clone(),
            _ if string_table || holds_string => toml::Value::String(self.raw.clone()),
            other => other.clone(),
        };
        current.insert(last.clone(), value);
    }
}

impl FromStr for Override {
    type Err = ScenarioError;

    fn from_str(given: &str) -> Result<Self, Self::Err> {
        let bad = |problem: &str| ScenarioError::BadOverride {
            given: given.to_string(),
            problem: problem.to_string(),
        };
        let (key, raw) = given.split_once('=').ok_or_else(|| bad("no `=` in it"))?;
        let key = key.trim();
        if key.is_empty() {
            return Err(bad("the key before `=` is empty"));
        }
        let path: Vec<String> = key.split('.').map(|p| p.trim().to_string()).collect();
        if path.iter().any(|p| p.is_empty()) {
            return Err(bad("the key has an empty part between dots"));
        }
        let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(raw.to_string()));
        Ok(Self {
            given: given.to_string(),
            path,
            raw: raw.to_string(),
            value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_toml_or_strings() {
        let mut table = toml::Table::new();
        for s in [
            "load.users=4",
            "vars.http_client=per-movie",
            "gates.max_error_rate=0.5",
        ] {
            s.parse::<Override>().unwrap().apply(&mut table);
        }
        assert_eq!(table["load"]["users"].as_integer(), Some(4));
        assert_eq!(table["vars"]["http_client"].as_str(), Some("per-movie"));
        assert_eq!(table["gates"]["max_error_rate"].as_float(), Some(0.5));
    }

    #[test]
    fn string_tables_and_string_keys_keep_the_text() {
        let mut table: toml::Table = toml::from_str("[service]\ncommand = \"x\"").unwrap();
        for s in ["vars.mode=123", "service.env.PORT=9", "service.command=42"] {
            s.parse::<Override>().unwrap().apply(&mut table);
        }
        assert_eq!(table["vars"]["mode"].as_str(), Some("123"));
        assert_eq!(table["service"]["env"]["PORT"].as_str(), Some("9"));
        assert_eq!(table["service"]["command"].as_str(), Some("42"));
    }

    #[test]
    fn malformed_overrides_are_refused() {
        for s in ["load.users", "=3", "load..users=3"] {
            let err = s.parse::<Override>().unwrap_err().to_string();
            assert!(err.contains("--set"), "{err}");
        }
    }
}
