use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Mutex, OnceLock, PoisonError};

/// Which database a piece of data lives in: a *connection role*. Business data (`main`) and
/// privileged accounts (`masteradmin`) are kept apart so that a leak or a bad query in one
/// cannot reach the other; a service may declare more (`billing`, `analytics`).
///
/// A role is a validated name: 1 to 32 of `a-z`, `0-9` and `_`, starting with a letter, so
/// that it also makes a readable environment variable (`MONGO_URI_BILLING`). It is `Copy`:
/// names are interned once, when a role is declared, and compared by content.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Role(&'static str);

impl Role {
    /// Business data: branches, customers, orders, machines.
    pub const MAIN: Role = Role("main");
    /// Administrator accounts, apart from business data.
    pub const MASTERADMIN: Role = Role("masteradmin");
    /// The roles every deployment has, `main` first.
    pub const DEFAULTS: [Role; 2] = [Role::MAIN, Role::MASTERADMIN];

    /// The longest role name, in characters.
    pub const MAX_CHARS: usize = 32;

    /// Declares the role named `name`.
    ///
    /// Declaring is for configuration and start-up code: the name is kept for the life of the
    /// process. To resolve a name that a caller sent, use [`Role::find`] among the configured
    /// roles, which keeps nothing.
    ///
    /// # Errors
    /// [`InvalidRoleName`] when `name` is not 1 to 32 of `a-z`, `0-9`, `_` starting with a
    /// letter.
    pub fn new(name: &str) -> Result<Role, InvalidRoleName> {
        if !is_valid(name) {
            return Err(InvalidRoleName {
                name: name.chars().take(64).collect(),
            });
        }
        Ok(Role(intern(name)))
    }

    /// The role named `name`, checked at compile time when used in a `const`: the way a
    /// service declares its own roles (`const BILLING: Role = Role::named("billing");`).
    ///
    /// # Panics
    /// When `name` is not a valid role name; in a `const` this stops the build instead.
    pub const fn named(name: &'static str) -> Role {
        assert!(
            is_valid(name),
            "a role name is 1 to 32 of a-z, 0-9 and _, starting with a letter"
        );
        Role(name)
    }

    /// The role of `among` named `name`.
    ///
    /// # Errors
    /// [`UnknownRole`] listing the names of `among`.
    pub fn find(name: &str, among: impl IntoIterator<Item = Role>) -> Result<Role, UnknownRole> {
        let among: Vec<Role> = among.into_iter().collect();
        among
            .iter()
            .copied()
            .find(|role| role.0 == name)
            .ok_or_else(|| UnknownRole {
                name: name.chars().take(64).collect(),
                configured: among.iter().map(|r| r.0).collect::<Vec<_>>().join(", "),
            })
    }

    /// The role's name, as configured.
    pub const fn as_str(self) -> &'static str {
        self.0
    }

    /// The environment variable that holds this role's connection string:
    /// `MONGO_URI_<NAME>` in capitals (the two default roles have names of their own, which
    /// the MongoDB adapter knows).
    pub fn uri_variable(self) -> String {
        format!("MONGO_URI_{}", self.0.to_ascii_uppercase())
    }
}

const fn is_valid(name: &str) -> bool {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() > Role::MAX_CHARS || !bytes[0].is_ascii_lowercase() {
        return false;
    }
    let mut i = 1;
    while i < bytes.len() {
        let b = bytes[i];
        if !(b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
            return false;
        }
        i += 1;
    }
    true
}

/// Each distinct name is leaked once, so that `Role` can be `Copy`. Only declared roles get
/// here (configuration and code, a handful per process), never names from requests.
fn intern(name: &str) -> &'static str {
    if let Some(known) = Role::DEFAULTS.iter().find(|r| r.0 == name) {
        return known.0;
    }
    static NAMES: OnceLock<Mutex<BTreeSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(known) = names.get(name) {
        return known;
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(leaked);
    leaked
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Debug for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Role({})", self.0)
    }
}

/// A role name that cannot be declared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid connection role name '{name}': expected 1 to 32 of a-z, 0-9 and _, starting with a letter")]
pub struct InvalidRoleName {
    name: String,
}

/// A role name that is not among the configured roles.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown connection role '{name}': configured are {configured}")]
pub struct UnknownRole {
    name: String,
    configured: String,
}

impl UnknownRole {
    /// The same error for `role`, which is not among `configured`.
    pub fn new(role: Role, configured: impl IntoIterator<Item = Role>) -> Self {
        let configured: Vec<&str> = configured.into_iter().map(Role::as_str).collect();
        Self {
            name: role.0.to_owned(),
            configured: configured.join(", "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_roles_print_as_their_names_and_equal_the_constants() {
        assert_eq!(Role::new("main").unwrap(), Role::MAIN);
        assert_eq!(Role::new("masteradmin").unwrap().to_string(), "masteradmin");
        let billing = Role::new("billing").unwrap();
        assert_eq!(billing, Role::new("billing").unwrap());
        assert_ne!(billing, Role::MAIN);
        assert_eq!(billing.uri_variable(), "MONGO_URI_BILLING");
        const BILLING: Role = Role::named("billing");
        assert_eq!(BILLING, billing);
    }

    #[test]
    fn names_outside_the_alphabet_are_refused() {
        for bad in [
            "",
            "Main",
            "9lives",
            "billing-eu",
            "a b",
            &"x".repeat(33),
            "é",
        ] {
            assert!(Role::new(bad).is_err(), "{bad:?}");
        }
        assert!(Role::new(&"x".repeat(32)).is_ok());
    }

    #[test]
    fn an_unknown_role_is_an_error_listing_the_configured_ones() {
        let err = Role::find("MasterAdmin", Role::DEFAULTS)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("'MasterAdmin'") && err.contains("main, masteradmin"),
            "{err}"
        );
        assert_eq!(Role::find("main", Role::DEFAULTS), Ok(Role::MAIN));
    }
}
