use crate::error::{Invalid, ValidationError};
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

    /// An example entity, built from [`Model::example_new`] through the request form and the
    /// rules, as a request would be: the fixtures of the contract suite and the examples of an
    /// API document, with nothing written per model.
    ///
    /// # Errors
    /// The errors when a value type's example breaks a rule of the model: a fault of the
    /// declaration, which the contract suite reports.
    fn example(n: u32) -> Result<Self, Invalid> {
        Ok(Self::from_new(Self::example_new(n))?.admit()?)
    }
}
