//! The official Open Payments Node SDK (`@interledger/open-payments` 7.4.0, response
//! validation on) runs the whole peer-to-peer flow against a fresh sandbox, as a third-party
//! client with its own wallet address and keys: `e2e/op-sdk/flow.mjs`. Needs Node and
//! `npm ci` in `e2e/op-sdk` (the README's test command does both), so plain `cargo test`
//! skips it.

use std::path::PathBuf;
use std::time::Duration;

use crate::helpers::spawn;

#[tokio::test]
#[ignore = "needs Node and `npm ci` in e2e/op-sdk; run by scripts/test.sh"]
async fn the_official_node_sdk_completes_a_payment() {
    // Rafiki's test-network setting: continuation allowed one second after the grant.
    let sandbox = spawn(|config| config.timings.wait = Duration::from_secs(1)).await;
    let script_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../e2e/op-sdk");
    assert!(
        script_dir
            .join("node_modules/@interledger/open-payments")
            .is_dir(),
        "run `npm ci --prefix e2e/op-sdk` first (scripts/install-test-tools.sh does)"
    );
    let output = tokio::process::Command::new("node")
        .arg("flow.mjs")
        .arg(&sandbox.base)
        .current_dir(&script_dir)
        .output()
        .await
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the Node SDK flow failed:\n{stderr}\n{stdout}"
    );
    let summary: serde_json::Value = serde_json::from_str(&stdout).expect("a JSON summary");
    assert_eq!(summary["ok"], true, "{summary}");
    let alice = &summary["balances"]["alice"];
    let debit: i64 = summary["debitAmount"]["value"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let before: i64 = alice[0].as_str().unwrap().parse().unwrap();
    let after: i64 = alice[1].as_str().unwrap().parse().unwrap();
    assert_eq!(before - after, debit);
    assert_eq!(sandbox.balance("bruno").await, 10_000_000 + 2500);
}
