//! MONGODB-AWS authentication is built into `app` (its default `aws-auth` feature): a URI with
//! `authMechanism=MONGODB-AWS` is accepted, the driver signs in with the AWS credentials of
//! the environment, and when the server refuses them, nothing the process writes shows the
//! secret key or the session token, at any log level. The instance metadata service is
//! disabled, so nothing leaves 127.0.0.1. The test server (`MONGO_TEST_URI`, started by
//! `./scripts/test`) does not offer MONGODB-AWS, so the refusal is the server's.

use testkit::server::{test_server_uri, unique_database_name, uri_with_database, uri_with_option};

const SECRET_ACCESS_KEY: &str = "fakeSecretAccessKey-S3CRET-4d1f0c";
const SESSION_TOKEN: &str = "fakeSessionToken-S3CRET-9b2e7a";

/// `MONGO_TEST_URI` with a database of this test's own and the AWS mechanism.
fn aws_uri() -> String {
    let database = uri_with_database(&test_server_uri(), &unique_database_name("aws_auth"));
    uri_with_option(&database, "authMechanism=MONGODB-AWS")
}

#[test]
fn a_refused_aws_sign_in_is_reported_without_the_secret_key_or_session_token() {
    let output = testkit::process::command(env!("CARGO_BIN_EXE_app"))
        .arg("health")
        .env("MONGO_URI", aws_uri())
        .env("AUTH_JWT_SECRET", "aws-auth-test-secret-of-32-bytes")
        .env("MONGO_SERVER_SELECTION_TIMEOUT_MS", "3000")
        .env("AWS_ACCESS_KEY_ID", "AKIAFAKEKEYFORTESTS1")
        .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .env("AWS_SESSION_TOKEN", SESSION_TOKEN)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !output.status.success(),
        "the server cannot accept it: {shown}"
    );
    for secret in [SECRET_ACCESS_KEY, SESSION_TOKEN] {
        assert!(!shown.contains(secret), "{secret} is shown:\n{shown}");
    }
    let refused = shown.to_lowercase();
    assert!(
        refused.contains("auth") && !refused.contains("feature"),
        "the failure is the sign-in's, not a build without the feature:\n{shown}"
    );
}
