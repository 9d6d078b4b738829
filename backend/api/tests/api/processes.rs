//! `shifting` processes for tests that need more than one server or must kill one.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::PASSWORD;

/// A child process killed when dropped.
pub struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub fn shifting(args: &[&str], envs: &[(&str, String)]) -> Process {
    let mut command = Command::new(env!("CARGO_BIN_EXE_shifting"));
    command
        .args(args)
        .env("SHIFTING_LOG_FILTER", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (name, value) in envs {
        command.env(name, value);
    }
    Process(command.spawn().expect("start shifting"))
}

/// Waits until `url` answers 200 (bounded by attempts).
pub async fn ready(http: &reqwest::Client, url: &str) {
    for _ in 0..600 {
        if let Ok(response) = http.get(url).send().await
            && response.status() == StatusCode::OK
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} never became ready");
}

impl Process {
    /// Takes ownership of a started child.
    pub fn from_child(child: Child) -> Self {
        Self(child)
    }

    /// Kills the process at once (SIGKILL: no shutdown, no clean-up) and reaps it.
    pub fn kill(mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends `request`, checks that it succeeded, and returns the JSON body.
pub async fn json(request: reqwest::RequestBuilder) -> Value {
    let response = request.send().await.expect("request");
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert!(status.is_success(), "{status}: {body}");
    body
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
    let account = json(http.post(format!("{api}/api/auth/signup")).json(&json!({
        "username": name, "email": format!("{name}@example.com"), "password": PASSWORD,
    })))
    .await;
    let token = account["access_token"].as_str().expect("token").to_owned();
    json(
        http.patch(format!("{api}/api/me"))
            .bearer_auth(&token)
            .json(&json!({"wallet_address": format!("{sandbox}/{wallet}")})),
    )
    .await;
    token
}

/// A sandbox account's balance in minor units.
pub async fn balance(http: &reqwest::Client, sandbox: &str, name: &str) -> i64 {
    let accounts = json(http.get(format!("{sandbox}/accounts"))).await;
    accounts["accounts"]
        .as_array()
        .and_then(|all| all.iter().find(|a| a["name"] == name))
        .and_then(|a| a["balance"].as_str())
        .expect("account")
        .parse()
        .expect("number")
}
