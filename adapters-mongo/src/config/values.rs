//! Reading a variable's text into the value the driver takes (numbers, switches, read
//! preferences, concerns), or into a [`ConfigError`] naming the variable.

use mongodb::options::{Acknowledgment, ReadConcern, ReadPreference, WriteConcern};

use super::error::ConfigError;

pub(super) fn positive(
    variable: &str,
    value: &str,
    expected: &'static str,
) -> Result<u64, ConfigError> {
    match value.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(invalid_number(variable, value, expected)),
    }
}

/// A pool count from `minimum` to `u32::MAX`.
pub(super) fn pool_number(variable: &str, value: &str, minimum: u32) -> Result<u32, ConfigError> {
    let expected = if minimum == 0 {
        "a whole number from 0 to 4294967295"
    } else {
        "a whole number from 1 to 4294967295"
    };
    match value.trim().parse::<u32>() {
        Ok(n) if n >= minimum => Ok(n),
        _ => Err(invalid_number(variable, value, expected)),
    }
}

fn invalid_option(variable: &str, value: &str, expected: &'static str) -> ConfigError {
    ConfigError::InvalidOption {
        variable: variable.to_owned(),
        value: value.chars().take(32).collect(),
        expected,
    }
}

/// A read preference mode by its connection-string name, in any case.
pub(super) fn parse_read_preference(
    variable: &str,
    value: &str,
) -> Result<ReadPreference, ConfigError> {
    let mode = value.trim().to_ascii_lowercase();
    Ok(match mode.as_str() {
        "primary" => ReadPreference::Primary,
        "primarypreferred" => ReadPreference::PrimaryPreferred { options: None },
        "secondary" => ReadPreference::Secondary { options: None },
        "secondarypreferred" => ReadPreference::SecondaryPreferred { options: None },
        "nearest" => ReadPreference::Nearest { options: None },
        _ => {
            return Err(invalid_option(
                variable,
                value,
                "primary, primaryPreferred, secondary, secondaryPreferred or nearest",
            ))
        }
    })
}

/// A read concern level the server knows, in any case.
pub(super) fn parse_read_concern(variable: &str, value: &str) -> Result<ReadConcern, ConfigError> {
    Ok(match value.trim().to_ascii_lowercase().as_str() {
        "local" => ReadConcern::local(),
        "majority" => ReadConcern::majority(),
        "linearizable" => ReadConcern::linearizable(),
        "available" => ReadConcern::available(),
        "snapshot" => ReadConcern::snapshot(),
        _ => {
            return Err(invalid_option(
                variable,
                value,
                "local, majority, linearizable, available or snapshot",
            ))
        }
    })
}

/// `majority` or a number of nodes, optionally followed by `:journal`.
pub(super) fn parse_write_concern(
    variable: &str,
    value: &str,
) -> Result<WriteConcern, ConfigError> {
    const EXPECTED: &str =
        "majority or a number of nodes, optionally followed by :journal (majority:journal)";
    let text = value.trim();
    let (w, journal) = match text.split_once(':') {
        Some((w, "journal")) => (w, true),
        Some(_) => return Err(invalid_option(variable, value, EXPECTED)),
        None => (text, false),
    };
    let w = if w.eq_ignore_ascii_case("majority") {
        Acknowledgment::Majority
    } else {
        match w.parse::<u32>() {
            // An unacknowledged write cannot wait for the journal.
            Ok(0) if journal => return Err(invalid_option(variable, value, EXPECTED)),
            Ok(nodes) => Acknowledgment::Nodes(nodes),
            Err(_) => return Err(invalid_option(variable, value, EXPECTED)),
        }
    };
    let mut concern = WriteConcern::from(w);
    if journal {
        concern.journal = Some(true);
    }
    Ok(concern)
}

/// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`), in any case.
pub(super) fn switch(variable: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::InvalidSwitch {
            variable: variable.to_owned(),
            value: value.chars().take(32).collect(),
        }),
    }
}

pub(super) fn invalid_number(variable: &str, value: &str, expected: &'static str) -> ConfigError {
    ConfigError::InvalidNumber {
        variable: variable.to_owned(),
        value: value.chars().take(32).collect(),
        expected,
    }
}
