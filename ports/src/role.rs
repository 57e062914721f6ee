use std::fmt;
use std::str::FromStr;

/// Which database a piece of data lives in. Business data and privileged accounts are kept
/// apart so that a leak or a bad query in one cannot reach the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Business data: branches, customers, orders, machines. Named `main`.
    Main,
    /// Administrator accounts. Named `masteradmin`.
    MasterAdmin,
}

impl Role {
    /// Both roles, `main` first.
    pub const ALL: [Role; 2] = [Role::Main, Role::MasterAdmin];

    /// The role's configuration name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Main => "main",
            Role::MasterAdmin => "masteradmin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is neither `main` nor `masteradmin`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown connection role '{name}': expected one of main, masteradmin")]
pub struct UnknownRole {
    name: String,
}

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == name)
            .ok_or_else(|| UnknownRole {
                name: name.chars().take(64).collect(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_print_and_parse_as_their_configuration_names() {
        for role in Role::ALL {
            assert_eq!(role.to_string().parse::<Role>().unwrap(), role);
        }
        assert_eq!(Role::MasterAdmin.to_string(), "masteradmin");
    }

    #[test]
    fn an_unknown_role_is_an_error_listing_the_valid_ones() {
        let err = "MasterAdmin".parse::<Role>().unwrap_err().to_string();
        assert!(
            err.contains("'MasterAdmin'") && err.contains("main, masteradmin"),
            "{err}"
        );
    }
}
