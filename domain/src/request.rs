//! A request body read against a model's declared fields, every error kept: what the derive's
//! `from_request` and `patch_from_request` are written with.

use serde::Deserialize;
use serde_json::{Map, Value as Json};

use crate::error::{Invalid, Problem, ValidationError};
use crate::model::{Edit, Field, Kind, Value};
use crate::rules::SAFE_INTEGER;

/// The longest unknown key an error repeats: a client's typo, not a client's essay.
const SHOWN_KEY_CHARS: usize = 64;

/// A JSON object being read as a create or a change request of one model. Each field is read
/// once; the errors accumulate, so that the answer lists all of them.
pub struct Form {
    object: Map<String, Json>,
    errors: Vec<ValidationError>,
}

impl Form {
    /// Opens `body` as a create (`creating`) or change request of a model with `fields`: an
    /// object whose keys are fields such a request carries. Unknown keys are recorded as
    /// errors now and reported with the others.
    ///
    /// # Errors
    /// `body` is not a JSON object.
    pub fn open(body: Json, fields: &'static [Field], creating: bool) -> Result<Self, Invalid> {
        let Json::Object(object) = body else {
            return Err(ValidationError::new("", Problem::WrongType("a JSON object")).into());
        };
        let carried = |field: &&Field| {
            if creating {
                field.edit != Edit::Derived
            } else {
                field.edit == Edit::Free
            }
        };
        let known: Vec<&str> = fields.iter().filter(carried).map(|f| f.name).collect();
        let errors = object
            .keys()
            .filter(|key| !known.contains(&key.as_str()))
            .map(|key| {
                let shown: String = key.chars().take(SHOWN_KEY_CHARS).collect();
                ValidationError::new(shown, Problem::Unknown(known.join(", ")))
            })
            .collect();
        Ok(Self { object, errors })
    }

    /// The value of `field` in a create request: required unless the field is optional.
    pub fn create<T: Value>(&mut self, field: &'static Field) -> Option<T> {
        match self.object.remove(field.name) {
            None if field.required_on_create => {
                self.errors
                    .push(ValidationError::new(field.name, Problem::Missing));
                None
            }
            None => self.read(field, Json::Null),
            Some(json) => self.initial(field, json),
        }
    }

    /// The value of a `default` field in a create request: the type's default when absent.
    pub fn create_or_default<T: Value + Default>(&mut self, field: &'static Field) -> Option<T> {
        match self.object.remove(field.name) {
            None => Some(T::default()),
            Some(json) => self.initial(field, json),
        }
    }

    /// The new value of `field` in a change request: `Some(None)` when the request leaves it
    /// as it is, `None` when the value is refused.
    pub fn change<T: Value>(&mut self, field: &'static Field) -> Option<Option<T>> {
        match self.object.remove(field.name) {
            None => Some(None),
            Some(json) => self.read(field, json).map(Some),
        }
    }

    /// The errors recorded, when a field could not be read.
    pub fn refused(self) -> Invalid {
        Invalid::of(self.errors)
            .unwrap_or_else(|| ValidationError::new("", Problem::Missing).into())
    }

    /// Whether every field was read.
    ///
    /// # Errors
    /// Every error recorded: unknown keys, refused values.
    pub fn finish(self) -> Result<(), Invalid> {
        Invalid::of(self.errors).map_or(Ok(()), Err)
    }

    fn initial<T: Value>(&mut self, field: &'static Field, json: Json) -> Option<T> {
        let refused = match &json {
            Json::String(text) if !field.initial.is_empty() => {
                !field.initial.contains(&text.as_str())
            }
            _ => false,
        };
        if refused {
            let problem = Problem::NotInitial(field.initial);
            self.errors.push(ValidationError::new(field.name, problem));
            return None;
        }
        self.read(field, json)
    }

    /// `json` as `T`: of the right JSON type, within the field's rules, then parsed.
    fn read<T: Value>(&mut self, field: &'static Field, json: Json) -> Option<T> {
        let json = whole(field, json);
        let Ok(input) = T::Input::deserialize(&json) else {
            let problem = Problem::WrongType(expected(field));
            self.errors.push(ValidationError::new(field.name, problem));
            return None;
        };
        if let Err(error) = field.rules.check(&json, field.name) {
            self.errors.push(error);
            return None;
        }
        T::parse_all(input, field.name)
            .map_err(|invalid| self.errors.extend_from_slice(invalid.errors()))
            .ok()
    }
}

/// A whole number's value written with a fraction of zero (`3.0`) as the integer it is: JSON
/// Schema's `integer` counts it as one, and so do we.
fn whole(field: &Field, json: Json) -> Json {
    match (&field.kind, json.as_f64()) {
        (Kind::Integer, Some(n))
            if json.is_f64() && n.fract() == 0.0 && n.abs() <= SAFE_INTEGER =>
        {
            // Exact: within 2^53 every whole f64 is an i64.
            Json::from(n as i64)
        }
        _ => json,
    }
}

/// What a field's JSON value must be, in words.
fn expected(field: &Field) -> &'static str {
    match (field.kind, field.optional) {
        (Kind::Text | Kind::Choice(_), false) => "text",
        (Kind::Text | Kind::Choice(_), true) => "text or null",
        (Kind::Integer, false) => "a whole number",
        (Kind::Integer, true) => "a whole number or null",
        (Kind::Number, false) => "a number",
        (Kind::Number, true) => "a number or null",
        (Kind::Reference(_), false) => "an id of 24 hexadecimal characters",
        (Kind::Reference(_), true) => "an id of 24 hexadecimal characters or null",
        (Kind::Records(_), _) => "a list of objects",
    }
}
