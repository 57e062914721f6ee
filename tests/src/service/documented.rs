//! The service's own contract, `GET /openapi.json`, and the check that every answer a test
//! receives through [`TestService::call`](super::TestService::call) keeps it: the status is
//! documented for the route and method, and the body validates against the documented
//! schema. A route answered without documentation, a status nobody listed, or a field the
//! schema does not know fails the test that met it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::http::{Method, StatusCode};
use jsonschema::Validator;
use serde_json::{json, Value};

/// The published document, with the validators compiled from it so far.
#[derive(Debug)]
pub struct ApiContract {
    document: Value,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

impl ApiContract {
    /// The contract of `document`, the body of `GET /openapi.json`.
    ///
    /// # Panics
    ///
    /// When `document` is not an OpenAPI 3.1 document with paths.
    pub fn new(document: Value) -> Self {
        assert_eq!(document["openapi"].as_str().map(|v| &v[..3]), Some("3.1"));
        assert!(document["paths"].is_object(), "the document has paths");
        Self {
            document,
            validators: Mutex::new(HashMap::new()),
        }
    }

    /// The document as published.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// Checks that the answer `status` with `body` to `method path` is documented.
    ///
    /// # Panics
    ///
    /// When the route, method or status is undocumented, or the body does not validate.
    pub fn check(&self, method: &Method, path: &str, status: StatusCode, body: &Value) {
        let pointer = match self.template(path) {
            Some(template) if self.has(template, method) => {
                let operation = format!("/paths/{}/{}", escape(template), method_key(method));
                self.response_schema(&operation, status).unwrap_or_else(|| {
                    panic!("{method} {template} answered an undocumented {status}: {body}")
                })
            }
            // Routes and methods that do not exist answer the error body, documented once.
            _ => {
                assert!(
                    matches!(
                        status,
                        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
                    ),
                    "{method} {path} is not documented, yet answered {status}: {body}"
                );
                "/components/schemas/ErrorBody".to_owned()
            }
        };
        let validator = self.validator(&pointer);
        if let Err(error) = validator.validate(body) {
            panic!(
                "{method} {path} answered {status} with a body that its documented schema \
                 ({pointer}) refuses: {error} at {}\nbody: {body}",
                error.instance_path()
            );
        }
    }

    /// The documented path template `path` falls under, preferring literal segments
    /// (`/health/live` over a `/health/{id}`).
    fn template(&self, path: &str) -> Option<&str> {
        let path = path.split('?').next().unwrap_or(path);
        let segments: Vec<&str> = path.split('/').collect();
        let paths = self.document["paths"].as_object()?;
        paths
            .keys()
            .filter_map(|template| {
                let parts: Vec<&str> = template.split('/').collect();
                if parts.len() != segments.len() {
                    return None;
                }
                let mut literal = 0;
                for (part, segment) in parts.iter().zip(&segments) {
                    if part.starts_with('{') {
                        continue;
                    }
                    if part != segment {
                        return None;
                    }
                    literal += 1;
                }
                Some((literal, template.as_str()))
            })
            .max_by_key(|(literal, _)| *literal)
            .map(|(_, template)| template)
    }

    fn has(&self, template: &str, method: &Method) -> bool {
        self.document["paths"][template]
            .get(method_key(method))
            .is_some()
    }

    /// The pointer to the schema of `status`'s JSON body in `operation`, if documented.
    fn response_schema(&self, operation: &str, status: StatusCode) -> Option<String> {
        let responses = format!("{operation}/responses");
        let answers = self.document.pointer(&responses)?;
        let key = [status.as_str(), "default"]
            .into_iter()
            .find(|key| answers.get(key).is_some())?;
        Some(format!(
            "{responses}/{key}/content/application~1json/schema"
        ))
    }

    /// The validator of the schema at `pointer`, its references resolved in the document.
    fn validator(&self, pointer: &str) -> Arc<Validator> {
        let mut validators = self
            .validators
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let validator = validators.entry(pointer.to_owned()).or_insert_with(|| {
            assert!(
                self.document.pointer(pointer).is_some(),
                "the document has no schema at {pointer}"
            );
            // The document is the root, so `#/components/schemas/…` resolves as published.
            let mut root = self.document.clone();
            let fragment = pointer.replace('{', "%7B").replace('}', "%7D");
            root["$ref"] = json!(format!("#{fragment}"));
            let validator = jsonschema::draft202012::new(&root)
                .unwrap_or_else(|e| panic!("the schema at {pointer} does not compile: {e}"));
            Arc::new(validator)
        });
        Arc::clone(validator)
    }
}

fn method_key(method: &Method) -> String {
    method.as_str().to_ascii_lowercase()
}

/// A JSON pointer's escaping of one key (`/branches/{id}` -> `~1branches~1{id}`).
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}
