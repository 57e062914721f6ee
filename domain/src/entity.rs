use serde_json::Value as Json;

use crate::error::{Invalid, Problem, ValidationError};
use crate::model::{Edit, Field, Kind, Model};

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

    /// Whether a create request carrying this record's values would be accepted today: its
    /// JSON form without the derived fields (which no request carries), read as a request and
    /// admitted by the rules. Stored records are read without validation (perhaps written by
    /// an older rule, or by Mongoose); this is where they meet today's rules (`app check`).
    ///
    /// # Errors
    /// Every field today's rules refuse.
    fn accepted_today(&self) -> Result<(), Invalid> {
        let mut json = serde_json::to_value(self)
            .map_err(|_| ValidationError::new("", Problem::WrongType("a JSON object")))?;
        without_derived(Self::FIELDS, &mut json);
        as_if_new(Self::FIELDS, &mut json);
        Self::from_request(json)?.admit()?;
        Ok(())
    }
}

/// `json` (an entity's form) with each state-machine field that holds a declared value set to
/// its first initial value: a record's state may have moved on since it was created, and a
/// state is valid as a state, not as a creation.
fn as_if_new(fields: &[Field], json: &mut Json) {
    let Json::Object(object) = json else {
        return;
    };
    for field in fields {
        let (Kind::Choice(names), [first, ..]) = (field.kind, field.initial) else {
            continue;
        };
        if let Some(value) = object.get_mut(field.name) {
            if value.as_str().is_some_and(|state| names.contains(&state)) {
                *value = Json::from(*first);
            }
        }
    }
}

/// `json` (an entity's form) without the fields `fields` declares derived, in nested records
/// too.
fn without_derived(fields: &[Field], json: &mut Json) {
    let Json::Object(object) = json else {
        return;
    };
    for field in fields {
        if field.edit == Edit::Derived {
            object.remove(field.name);
        } else if let (Kind::Records(nested), Some(Json::Array(items))) =
            (field.kind, object.get_mut(field.name))
        {
            for item in items {
                without_derived(nested, item);
            }
        }
    }
}
