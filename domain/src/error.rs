use std::borrow::Cow;
use std::fmt;

/// A value that failed validation, naming the field it was meant for.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ValidationError {
    field: Cow<'static, str>,
    problem: Problem,
}

impl ValidationError {
    /// A validation failure of `field`; `""` for the request as a whole.
    pub fn new(field: impl Into<Cow<'static, str>>, problem: Problem) -> Self {
        Self {
            field: field.into(),
            problem,
        }
    }

    /// The same failure inside `outer` (`items[2]`), so that an error in a nested record names
    /// the path a client sent (`items[2].quantity`).
    pub fn within(self, outer: &str) -> Self {
        let field = if self.field.is_empty() {
            outer.to_owned()
        } else {
            format!("{outer}.{}", self.field)
        };
        Self {
            field: Cow::Owned(field),
            problem: self.problem,
        }
    }

    /// The field, as the API and the storage name it (camelCase); a nested field by its path
    /// (`items[0].quantity`).
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What is wrong with the value.
    pub fn problem(&self) -> &Problem {
        &self.problem
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "the body {}", self.problem)
        } else {
            write!(f, "{}: {}", self.field, self.problem)
        }
    }
}

/// Every field error of one request, so that a client (or a form) can show them all at once
/// instead of one per round trip. Never empty.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct Invalid(Vec<ValidationError>);

impl Invalid {
    /// The errors, in the order of the declaration's fields.
    pub fn errors(&self) -> &[ValidationError] {
        &self.0
    }

    /// The first error: the one a caller that stops at one reports.
    pub fn first(&self) -> &ValidationError {
        &self.0[0]
    }

    /// The errors of `errors`, or `None` when there are none.
    pub fn of(errors: Vec<ValidationError>) -> Option<Self> {
        (!errors.is_empty()).then_some(Self(errors))
    }

    /// The same errors inside `outer`, as [`ValidationError::within`].
    pub fn within(self, outer: &str) -> Self {
        Self(self.0.into_iter().map(|e| e.within(outer)).collect())
    }
}

impl From<ValidationError> for Invalid {
    fn from(error: ValidationError) -> Self {
        Self(vec![error])
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, error) in self.0.iter().enumerate() {
            if n > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

/// What is wrong with a value. Each names its bound, so that the message says what would be
/// accepted.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// A create request left out a field it must carry.
    Missing,
    /// A key the request form does not declare; the text lists the ones it does.
    Unknown(String),
    /// A value of another JSON type: the text says which is expected.
    WrongType(&'static str),
    /// Empty, or only white space.
    Empty,
    /// Shorter than the minimum number of characters.
    TooShort {
        /// The minimum, in characters.
        min: usize,
    },
    /// Longer than the maximum number of characters.
    TooLong {
        /// The maximum, in characters.
        max: usize,
    },
    /// Text holding a control character or a bidirectional override, which terminals, mail
    /// systems and logs would act on.
    ControlCharacter,
    /// Not of the expected shape; the text says which.
    Malformed(&'static str),
    /// A number below the minimum.
    Below {
        /// The smallest accepted value.
        min: f64,
    },
    /// A number above the maximum.
    Above {
        /// The largest accepted value.
        max: f64,
    },
    /// A number that must be above zero was not.
    NotPositive,
    /// A number that is not finite, or cannot be represented.
    OutOfRange,
    /// A list with fewer items than the minimum.
    TooFew {
        /// The fewest accepted.
        min: usize,
    },
    /// A list with more items than the maximum.
    TooMany {
        /// The most accepted.
        max: usize,
    },
    /// A value a record may have, but not when it is created (an order is created pending).
    NotInitial(&'static [&'static str]),
    /// A change the entity's rules forbid in the record's current state, such as reopening a
    /// completed order: the request is well formed, the record's state refuses it.
    NotAllowed(&'static str),
}

impl Problem {
    /// Whether the record's current state, not the request's shape, refuses the change: what
    /// an API answers as a conflict rather than a malformed request.
    pub fn is_state_conflict(&self) -> bool {
        matches!(self, Problem::NotAllowed(_))
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Missing => f.write_str("is required"),
            Problem::Unknown(known) => write!(f, "is not a field here; the fields are {known}"),
            Problem::WrongType(expected) => write!(f, "must be {expected}"),
            Problem::Empty => f.write_str("must not be empty"),
            Problem::TooShort { min } => write!(f, "must be at least {min} characters"),
            Problem::TooLong { max } => write!(f, "must be at most {max} characters"),
            Problem::ControlCharacter => {
                f.write_str("must not hold control characters or bidirectional overrides")
            }
            Problem::Malformed(expected) => write!(f, "must be {expected}"),
            Problem::Below { min } => write!(f, "must be at least {min}"),
            Problem::Above { max } => write!(f, "must be at most {max}"),
            Problem::NotPositive => f.write_str("must be greater than zero"),
            Problem::OutOfRange => f.write_str("must be a finite number"),
            Problem::TooFew { min } => write!(f, "must have at least {min} items"),
            Problem::TooMany { max } => write!(f, "must have at most {max} items"),
            Problem::NotInitial(states) => {
                write!(f, "must be {} when created", states.join(" or "))
            }
            Problem::NotAllowed(why) => f.write_str(why),
        }
    }
}
