//! The `shifting` binary's commands that need no server.

use std::process::Command;

fn shifting(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_shifting"))
        .args(args)
        .output()
        .expect("shifting runs");
    assert!(
        output.status.success(),
        "shifting {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

#[test]
fn keygen_prints_a_private_key_that_loads_and_its_matching_jwk() {
    let out = shifting(&["keygen", "--kid", "platform-key-1"]);

    let pem_start = out
        .find("-----BEGIN PRIVATE KEY-----")
        .expect("a PEM block");
    let pem_end =
        out.find("-----END PRIVATE KEY-----").expect("PEM end") + "-----END PRIVATE KEY-----".len();
    let key =
        shifting_open_payments::SigningKey::from_pem("platform-key-1", &out[pem_start..pem_end])
            .expect("the key loads");
    let jwk_line = out.lines().last().expect("the JWK line");
    let jwk: shifting_open_payments::Jwk = serde_json::from_str(jwk_line).expect("the JWK parses");
    assert_eq!(jwk, key.public_jwk());
    assert_eq!(jwk.kid, "platform-key-1");

    let other = shifting(&["keygen"]);
    assert_ne!(
        other.lines().last(),
        Some(jwk_line),
        "every run makes a new key"
    );
}

#[test]
fn openapi_prints_the_committed_document() {
    let printed = shifting(&["openapi"]);
    let committed = std::fs::read_to_string("../../openapi/openapi.json").expect("committed spec");
    assert_eq!(printed, committed);
}

#[test]
fn help_explains_every_option() {
    let help = shifting(&["serve", "--help"]);
    for needle in [
        "--addr",
        "SHIFTING_ADDR",
        "--data-dir",
        "SHIFTING_DATA_DIR",
        "--config",
    ] {
        assert!(
            help.contains(needle),
            "serve --help does not mention {needle}"
        );
    }
    let top = shifting(&["--help"]);
    for command in ["serve", "migrate", "openapi", "keygen"] {
        assert!(top.contains(command), "--help does not list {command}");
    }
}
