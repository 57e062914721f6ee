use crate::error::ValidationError;
use crate::model::Model;

/// A model with its rules: what repositories store and requests create and change.
///
/// `#[derive(Model)]` implements it with no rule beyond the values' own. A model with rules
/// across fields (an order's state machine and derived total) says `#[model(rules)]` and
/// implements the two methods it needs.
pub trait Entity: Model {
    /// The entity a create request becomes, once the rules hold: checked across fields,
    /// derived fields computed.
    ///
    /// # Errors
    /// A [`ValidationError`] naming the field whose rule fails.
    fn admit(self) -> Result<Self, ValidationError> {
        Ok(self)
    }

    /// The entity with `patch` applied. By default, the fields replaced and then
    /// [`Self::admit`]ted.
    ///
    /// # Errors
    /// A [`ValidationError`] when the change breaks one of the entity's rules (for example,
    /// editing the items of an order that is already in production).
    fn apply(&self, patch: Self::Patch) -> Result<Self, ValidationError> {
        self.patched(patch).admit()
    }
}
