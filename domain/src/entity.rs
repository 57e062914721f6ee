use std::fmt;

use crate::error::ValidationError;

/// What every stored entity type provides to the repositories.
pub trait Entity: Clone + fmt::Debug + PartialEq + Send + Sync + 'static {
    /// The model's name (`Branch`, `MasterAdmin`): what errors and by-name lookups say.
    const NAME: &'static str;

    /// The field whose value no two entities of this kind may share, if any.
    const UNIQUE_FIELD: Option<&'static str>;

    /// A validated change to some of the entity's fields.
    type Patch: fmt::Debug + Send + Sync + 'static;

    /// This entity's value of [`Self::UNIQUE_FIELD`].
    fn unique_value(&self) -> Option<&str>;

    /// The entity with `patch` applied.
    ///
    /// # Errors
    /// A [`ValidationError`] when the change breaks one of the entity's rules (for example,
    /// editing the items of an order that is already in production).
    fn apply(&self, patch: Self::Patch) -> Result<Self, ValidationError>;
}
