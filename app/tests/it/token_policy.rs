//! The token policy: a secret long enough to resist guessing, a bounded token lifetime, `nbf`
//! honoured, and issuer and audience enforced when configured; a refused token is a `401` in
//! the API's error format, and the demo's own token passes every check.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use app::auth::{AuthError, CallerRole, JwtKeys, TokenPolicy, WeakSecret};
use app::config::{AppConfig, StorageSettings};
use app::service::{Application, StartupError};

use axum::http::StatusCode;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use secrecy::SecretString;
use serde_json::{json, Value};

/// A secret of the minimum length, 32 bytes.
const SECRET: &str = "token-policy-test-secret-32-byte";
const DAY: u64 = 24 * 60 * 60;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `claims` signed HS256 with [`SECRET`].
fn signed(claims: &Value) -> String {
    let key = EncodingKey::from_secret(SECRET.as_bytes());
    encode(&Header::new(Algorithm::HS256), claims, &key).unwrap()
}

/// A master admin's claims, issued now, valid for an hour, with `extra` added or replaced.
fn claims(extra: Value) -> Value {
    let mut claims = json!({
        "sub": "0123456789abcdef01234567",
        "role": "master_admin",
        "iat": now(),
        "exp": now() + 3600,
    });
    for (name, value) in extra.as_object().unwrap() {
        claims[name] = value.clone();
    }
    claims
}

fn keys(policy: TokenPolicy) -> JwtKeys {
    JwtKeys::new(&SecretString::from(SECRET), policy).unwrap()
}

/// Whether `keys` accept `claims`; any refusal must be the one opaque error.
fn accepts(keys: &JwtKeys, claims: &Value) -> bool {
    match keys.verify(&signed(claims)) {
        Ok(_) => true,
        Err(error) => {
            assert_eq!(error, AuthError::InvalidToken);
            false
        }
    }
}

fn issued_by(issuer: &str) -> TokenPolicy {
    TokenPolicy {
        issuer: Some(issuer.to_owned()),
        ..TokenPolicy::default()
    }
}

fn meant_for(audience: &str) -> TokenPolicy {
    TokenPolicy {
        audience: Some(audience.to_owned()),
        ..TokenPolicy::default()
    }
}

fn config(secret: Option<&str>, token_policy: TokenPolicy) -> AppConfig {
    AppConfig {
        jwt_secret: secret.map(SecretString::from),
        token_policy,
        ..AppConfig::new(StorageSettings::Memory)
    }
}

#[tokio::test]
async fn a_secret_shorter_than_32_bytes_stops_start_up_saying_how_to_generate_one() {
    let short = &SECRET[..31];
    for secret in ["a", short] {
        let error = Application::build(config(Some(secret), TokenPolicy::default()))
            .await
            .unwrap_err();
        assert!(
            matches!(error, StartupError::WeakJwtSecret(WeakSecret)),
            "{error}"
        );
        let message = format!("{error} {error:?}");
        assert!(
            message.contains("AUTH_JWT_SECRET") && message.contains("openssl rand -base64 48"),
            "{message}"
        );
        assert!(!message.contains(short), "the secret is shown: {message}");
    }
    assert!(
        Application::build(config(Some(SECRET), TokenPolicy::default()))
            .await
            .is_ok()
    );
}

#[test]
fn a_compliant_token_is_accepted_to_its_subject_and_role() {
    let identity = keys(TokenPolicy::default())
        .verify(&signed(&claims(json!({}))))
        .unwrap();
    assert_eq!(identity.subject(), "0123456789abcdef01234567");
    assert_eq!(identity.role(), CallerRole::MASTER_ADMIN);
}

#[test]
fn a_token_without_iat_is_refused() {
    let mut without_iat = claims(json!({}));
    without_iat.as_object_mut().unwrap().remove("iat");
    assert!(!accepts(&keys(TokenPolicy::default()), &without_iat));
}

#[test]
fn a_token_without_exp_is_refused() {
    let mut without_exp = claims(json!({}));
    without_exp.as_object_mut().unwrap().remove("exp");
    assert!(!accepts(&keys(TokenPolicy::default()), &without_exp));
}

#[test]
fn a_lifetime_up_to_the_maximum_is_accepted_and_a_second_more_refused() {
    let keys = keys(TokenPolicy::default());
    let iat = now();
    assert!(accepts(
        &keys,
        &claims(json!({"iat": iat, "exp": iat + DAY}))
    ));
    assert!(!accepts(
        &keys,
        &claims(json!({"iat": iat, "exp": iat + DAY + 1}))
    ));
}

#[test]
fn the_maximum_lifetime_is_the_configured_one() {
    let keys = keys(TokenPolicy {
        max_ttl: Duration::from_secs(600),
        ..TokenPolicy::default()
    });
    assert!(keys
        .verify(&keys.issue("x", CallerRole::USER, Duration::from_secs(600)))
        .is_ok());
    let too_long = keys.issue("x", CallerRole::USER, Duration::from_secs(601));
    assert_eq!(keys.verify(&too_long), Err(AuthError::InvalidToken));
}

#[test]
fn a_token_issued_in_the_future_is_refused_so_the_lifetime_cannot_be_stretched() {
    let iat = now() + 30 * DAY;
    let future = claims(json!({"iat": iat, "exp": iat + 3600}));
    assert!(!accepts(&keys(TokenPolicy::default()), &future));
}

#[test]
fn a_token_not_valid_before_a_future_time_is_refused_and_one_already_valid_accepted() {
    let keys = keys(TokenPolicy::default());
    assert!(!accepts(&keys, &claims(json!({"nbf": now() + 600}))));
    assert!(accepts(&keys, &claims(json!({"nbf": now() - 60}))));
}

#[test]
fn a_configured_issuer_is_required_and_must_match() {
    let keys = keys(issued_by("https://login.example"));
    assert!(accepts(
        &keys,
        &claims(json!({"iss": "https://login.example"}))
    ));
    assert!(!accepts(
        &keys,
        &claims(json!({"iss": "https://evil.example"}))
    ));
    assert!(!accepts(&keys, &claims(json!({}))));
}

#[test]
fn a_configured_audience_is_required_and_must_match() {
    let keys = keys(meant_for("back-office"));
    assert!(accepts(&keys, &claims(json!({"aud": "back-office"}))));
    assert!(accepts(
        &keys,
        &claims(json!({"aud": ["billing", "back-office"]}))
    ));
    assert!(!accepts(&keys, &claims(json!({"aud": "billing"}))));
    assert!(!accepts(&keys, &claims(json!({}))));
}

#[test]
fn without_a_configured_issuer_or_audience_neither_claim_is_checked() {
    let keys = keys(TokenPolicy::default());
    assert!(accepts(&keys, &claims(json!({}))));
    let foreign = json!({"iss": "https://anyone.example", "aud": ["billing", "reports"]});
    assert!(accepts(&keys, &claims(foreign)));
}

#[test]
fn issued_tokens_carry_the_configured_issuer_and_audience() {
    let policy = TokenPolicy {
        issuer: Some("https://login.example".into()),
        audience: Some("back-office".into()),
        ..TokenPolicy::default()
    };
    let token = keys(policy.clone()).issue("x", CallerRole::USER, Duration::from_secs(60));
    assert!(keys(policy).verify(&token).is_ok());
    assert!(keys(issued_by("https://other.example"))
        .verify(&token)
        .is_err());
    assert!(keys(meant_for("billing")).verify(&token).is_err());
}

#[tokio::test]
async fn a_refused_token_is_a_401_in_the_api_error_format() {
    let application = Application::build(config(Some(SECRET), TokenPolicy::default()))
        .await
        .unwrap();
    let mut without_iat = claims(json!({}));
    without_iat.as_object_mut().unwrap().remove("iat");
    let (status, body) = crate::startup::get(&application, "/me", &signed(&without_iat)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"error": {"code": "unauthorized", "message": "invalid or expired token"}})
    );
}

#[tokio::test]
async fn the_demo_token_carries_iat_and_fits_a_maximum_shorter_than_its_usual_lifetime() {
    let short = TokenPolicy {
        max_ttl: Duration::from_secs(600),
        ..TokenPolicy::default()
    };
    let application = Application::build(config(None, short)).await.unwrap();
    let token = application.demo.clone().unwrap().token;
    let claims = jsonwebtoken::dangerous::insecure_decode::<Value>(&token)
        .unwrap()
        .claims;
    let (iat, exp) = (
        claims["iat"].as_u64().unwrap(),
        claims["exp"].as_u64().unwrap(),
    );
    assert!(exp - iat <= 600, "{claims}");
    let (status, body) = crate::startup::get(&application, "/me", &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
