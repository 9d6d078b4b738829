//! A generated client proves the contract: `e2e/integrator` generates TypeScript types from
//! the committed `openapi/openapi.json` (openapi-typescript), type-checks an integrator's whole
//! job against them (`tsc`, strict) and runs it with openapi-fetch against this server: an API
//! key, a webhook receiver, an idempotent room, a payment approved at the sandbox wallet, and
//! the signed `transaction.completed` verified with the Standard Webhooks library from npm.
//! Needs Node and `npm ci` in `e2e/integrator` (the README's test command does both), so plain
//! `cargo test` skips it.

use std::path::PathBuf;

use serde_json::Value;

use crate::helpers::spawn_app;

async fn run(dir: &std::path::Path, program: &str, args: &[&str]) -> String {
    let output = tokio::process::Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .await
        .unwrap_or_else(|err| panic!("{program} runs: {err}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{program} {args:?} failed:\n{stderr}\n{stdout}"
    );
    stdout
}

#[tokio::test]
#[ignore = "needs Node and `npm ci` in e2e/integrator; run by scripts/test.sh"]
async fn a_client_generated_from_the_contract_does_an_integrators_whole_job() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../e2e/integrator");
    assert!(
        dir.join("node_modules/openapi-fetch").is_dir(),
        "run `npm ci --prefix e2e/integrator` first (scripts/install-test-tools.sh does)"
    );
    run(
        &dir,
        "node_modules/.bin/openapi-typescript",
        &[
            "../../openapi/openapi.json",
            "--output",
            "generated/shifting.d.ts",
        ],
    )
    .await;
    run(&dir, "node_modules/.bin/tsc", &["-p", "."]).await;

    let app = spawn_app().await;
    let stdout = run(&dir, "node", &["dist/src/job.js", &app.address]).await;
    let summary: Value = serde_json::from_str(stdout.trim()).expect("a JSON summary");
    assert_eq!(summary["ok"], true, "{summary}");
    assert_eq!(summary["status"], "completed", "{summary}");
    assert_eq!(summary["event"]["type"], "transaction.completed");
    assert_eq!(summary["event"]["amount"]["value"], "2500");
    assert_eq!(summary["forged_refused"], true);
    let deliveries = summary["deliveries"].as_array().expect("deliveries");
    assert_eq!(deliveries.len(), 1, "{summary}");
    assert_eq!(deliveries[0]["id"], summary["event"]["id"]);
    assert_eq!(deliveries[0]["status"], "delivered");
    // One room for the two idempotent creations.
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM rooms").await, 1);
}
