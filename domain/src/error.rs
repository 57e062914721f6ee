use std::fmt;

/// A value that failed validation, naming the field it was meant for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ValidationError {
    field: &'static str,
    problem: Problem,
}

impl ValidationError {
    /// A validation failure of `field`.
    pub fn new(field: &'static str, problem: Problem) -> Self {
        Self { field, problem }
    }

    /// The field, as the API and the storage name it (camelCase).
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// What is wrong with the value.
    pub fn problem(&self) -> &Problem {
        &self.problem
    }
}

/// What is wrong with a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Empty, or only white space.
    Empty,
    /// Longer than the maximum number of characters.
    TooLong {
        /// The maximum, in characters.
        max: usize,
    },
    /// Not of the expected shape; the text says which.
    Malformed(&'static str),
    /// A number that must be above zero was not.
    NotPositive,
    /// A number was negative, too large, or not a number at all.
    OutOfRange,
    /// A change the entity's rules forbid, such as reopening a completed order.
    NotAllowed(&'static str),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Empty => f.write_str("must not be empty"),
            Problem::TooLong { max } => write!(f, "must be at most {max} characters"),
            Problem::Malformed(expected) => write!(f, "must be {expected}"),
            Problem::NotPositive => f.write_str("must be greater than zero"),
            Problem::OutOfRange => f.write_str("is out of range"),
            Problem::NotAllowed(why) => f.write_str(why),
        }
    }
}
