//! The embedded sandbox: mounted under `/sandbox` when there is no Open Payments identity,
//! absent when there is one, and runnable on its own with `shifting sandbox`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn without_an_identity_the_sandbox_is_mounted_with_the_platform_key() {
    let app = spawn_app().await;

    let accounts: Value = app
        .client
        .get(app.url("/sandbox/accounts"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let accounts = accounts["accounts"].as_array().unwrap();
    assert!(accounts.len() >= 6, "{accounts:?}");
    assert_eq!(
        accounts[0]["wallet_address"],
        app.url("/sandbox/alice").as_str()
    );

    let wallet: Value = app
        .client
        .get(app.url("/sandbox/shifting"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(wallet["publicName"], "Shifting");
    assert_eq!(wallet["authServer"], app.url("/sandbox/auth").as_str());

    // The JWKS publishes the key kept (0600) in the data directory.
    let jwks: shifting_open_payments::Jwks = app
        .client
        .get(app.url("/sandbox/shifting/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pem = std::fs::read_to_string(app.data_dir().join("sandbox-platform-key.pem")).unwrap();
    let key = shifting_open_payments::SigningKey::from_pem("shifting-sandbox", &pem).unwrap();
    assert_eq!(jwks.keys, vec![key.public_jwk()]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(app.data_dir().join("sandbox-platform-key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[tokio::test]
async fn with_a_real_identity_there_is_no_sandbox() {
    let (_, pem) = shifting_open_payments::SigningKey::generate("platform-key").unwrap();
    let app = spawn_app_with(|s| {
        s.open_payments.op_wallet_address = Some("$ilp.interledger-test.dev/shifting".into());
        s.open_payments.op_key_id = Some("platform-key".into());
        s.open_payments.op_private_key = Some(pem.into());
        s.mail.smtp_url = Some("smtp://127.0.0.1:9".into());
    })
    .await;
    // Nor a local mailbox: mail goes to the SMTP server.
    let response = app
        .client
        .get(app.url("/sandbox/mail"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = app
        .client
        .get(app.url("/sandbox/accounts"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn shifting_sandbox_serves_the_sandbox_on_its_own_port() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_shifting"))
        .args(["sandbox", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("SHIFTING_LOG_FILTER", "warn")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let base = BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .find_map(|line| {
            line.split_whitespace()
                .find(|w| w.starts_with("http://") && w.ends_with("/sandbox"))
                .map(str::to_owned)
        });
    let answer = match &base {
        Some(base) => reqwest::get(format!("{base}/accounts")).await.ok(),
        None => None,
    };
    child.kill().ok();
    child.wait().ok();
    let base = base.expect("the sandbox prints its URL");
    let accounts: Value = answer.expect("the sandbox answers").json().await.unwrap();
    assert_eq!(
        accounts["accounts"][0]["wallet_address"],
        format!("{base}/alice")
    );
    assert!(dir.path().join("sandbox.db").is_file());
    assert!(dir.path().join("sandbox-platform-key.pem").is_file());
}
