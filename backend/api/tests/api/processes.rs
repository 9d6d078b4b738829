//! `shifting` processes for tests that need more than one server or must kill one: the
//! helpers of `shifting-testkit` (shared with the benchmarks), bound to this crate's binary,
//! failing the test with a clear message instead of returning errors.

use std::path::Path;

pub use shifting_testkit::Process;

/// A port for a program that cannot bind port 0 and report it (nginx).
pub fn free_port() -> u16 {
    shifting_testkit::free_port().expect("a free port")
}

/// Starts `shifting` (with `--addr 127.0.0.1:0` among `args`) and returns it with the URL it
/// listens at.
pub async fn shifting(args: &[&str], envs: &[(&str, String)]) -> (Process, String) {
    shifting_testkit::shifting(Path::new(env!("CARGO_BIN_EXE_shifting")), args, envs)
        .await
        .expect("start shifting")
}

/// Waits until `url` answers 200 (bounded by attempts).
pub async fn ready(http: &reqwest::Client, url: &str) {
    shifting_testkit::ready(http, url).await.expect("ready");
}

/// Sends `request`, checks that it succeeded, and returns the JSON body.
pub async fn json(request: reqwest::RequestBuilder) -> serde_json::Value {
    shifting_testkit::json(request)
        .await
        .expect("a JSON answer")
}

/// Signs `name` up on the API at `api` and gives them the wallet `wallet` of the sandbox at
/// `sandbox`; returns the access token.
pub async fn trader(
    http: &reqwest::Client,
    api: &str,
    sandbox: &str,
    name: &str,
    wallet: &str,
) -> String {
    shifting_testkit::trader(http, api, sandbox, name, wallet)
        .await
        .expect("a trader")
}

/// A sandbox account's balance in minor units.
pub async fn balance(http: &reqwest::Client, sandbox: &str, name: &str) -> i64 {
    shifting_testkit::balance(http, sandbox, name)
        .await
        .expect("the balance")
}
