//! Payment-start latency against a standalone sandbox with added latency per request.
//!
//! Starts a sandbox on its own port whose every request from the platform's client waits
//! `LATENCY_MS` (default 50) first, and `shifting serve` pointed at it (`SHIFTING_SANDBOX_URL`).
//! Then times `POST /api/rooms/{code}/payments` on a freshly started server (cold: no wallet
//! documents or grant tokens cached) and `RUNS` times more (warm), and prints, for each, the
//! requests the platform sent to the wallet provider and the sequential round trips (the time
//! divided by the latency, rounded down: local work takes a few milliseconds).
//!
//! `cargo bench --workspace --bench payment_start` (environment: `LATENCY_MS`, `RUNS`).

// A benchmark program: its figures are its output.
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::json;
use shifting_api::app::{load_or_create_platform_key, open_sandbox};
use shifting_api::{App, RawSettings, Settings};
use shifting_testkit::json;
use url::Url;

/// Counts the platform client's requests and delays each by the latency.
#[derive(Clone, Debug)]
struct Network {
    latency: Duration,
    requests: Arc<AtomicU64>,
}

async fn slow_network(State(network): State<Network>, request: Request, next: Next) -> Response {
    // Only the platform's own requests: the sandbox fetching keys from itself is the
    // provider's business, not a round trip of ours.
    let from_platform = request
        .headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ua| ua.starts_with("shifting/"));
    if from_platform {
        network.requests.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(network.latency).await;
    }
    next.run(request).await
}

fn settings(dir: &std::path::Path, sandbox_url: Option<String>) -> anyhow::Result<Settings> {
    let mut raw = RawSettings::default();
    raw.server.addr = "127.0.0.1:0".into();
    raw.server.web_dir = dir.join("no-web-app");
    raw.database.data_dir = dir.to_owned();
    raw.logging.log_filter = "warn".into();
    raw.auth.jwt_secret = Some("benchmark secret, long enough for HS256 signing".into());
    raw.auth.auth_rate_limit_burst = 1000;
    raw.auth.auth_rate_limit_per_minute = 1000;
    raw.payments.payment_rate_limit_burst = 1000;
    raw.payments.payment_rate_limit_per_minute = 1000;
    raw.sandbox.sandbox_wait_secs = 0;
    raw.sandbox.sandbox_url = sandbox_url;
    Settings::from_raw(raw).map_err(anyhow::Error::from)
}

async fn serve(app: App) -> String {
    let url = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until(std::future::pending()));
    url
}

/// One measured start: milliseconds, requests to the provider, sequential round trips.
#[derive(Clone, Copy, Debug)]
struct Sample {
    ms: f64,
    requests: u64,
    sequential: f64,
}

impl Sample {
    fn new(elapsed: Duration, requests: u64, latency: Duration) -> Self {
        let ms = elapsed.as_secs_f64() * 1000.0;
        let latency_ms = latency.as_secs_f64() * 1000.0;
        let sequential = if latency.is_zero() {
            0.0
        } else {
            (ms / latency_ms).floor()
        };
        Self {
            ms,
            requests,
            sequential,
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let latency = Duration::from_millis(
        std::env::var("LATENCY_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(50),
    );
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
        .max(1);
    let dir = tempfile::tempdir()?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let origin = Url::parse(&format!("http://{}", listener.local_addr()?))?;
    let key = load_or_create_platform_key(dir.path())?;
    let sandbox = open_sandbox(&settings(dir.path(), None)?, &origin, &key).await?;
    let network = Network {
        latency,
        requests: Arc::new(AtomicU64::new(0)),
    };
    let router = Router::new()
        .nest(sandbox.mount_path(), sandbox.router())
        .layer(axum::middleware::from_fn_with_state(
            network.clone(),
            slow_network,
        ));
    tokio::spawn(async move { axum::serve(listener, router).await });
    let sandbox_url = sandbox.base_url().to_owned();

    let app_settings = settings(dir.path(), Some(sandbox_url.clone()))?;
    let first = serve(App::build(app_settings.clone()).await?).await;
    let http = reqwest::Client::new();
    let mut tokens = Vec::new();
    for (name, wallet) in [("seller", "alice"), ("buyer", "bruno")] {
        tokens.push(shifting_testkit::trader(&http, &first, &sandbox_url, name, wallet).await?);
    }
    let room = json(
        http.post(format!("{first}/api/rooms"))
            .bearer_auth(&tokens[0])
            .json(&json!({"name": "Benchmark room", "price": "25.00"})),
    )
    .await?;
    let code = room["code"].as_str().context("a room code")?.to_owned();

    // A second server: a fresh client with nothing cached, as after a deploy. Tokens are
    // bound to the server's URL, so the buyer logs in there.
    let cold = serve(App::build(app_settings).await?).await;
    let session = json(http.post(format!("{cold}/api/auth/login")).json(&json!({
        "login": "buyer",
        "password": shifting_testkit::PASSWORD,
    })))
    .await?;
    let buyer = session["access_token"]
        .as_str()
        .context("an access token")?
        .to_owned();
    let measure = || async {
        network.requests.store(0, Ordering::Relaxed);
        let at = Instant::now();
        json(
            http.post(format!("{cold}/api/rooms/{code}/payments"))
                .bearer_auth(&buyer)
                .json(&json!({})),
        )
        .await?;
        anyhow::Ok(Sample::new(
            at.elapsed(),
            network.requests.load(Ordering::Relaxed),
            latency,
        ))
    };

    println!(
        "payment start against a standalone sandbox, {} ms added to each request",
        latency.as_millis()
    );
    let first_start = measure().await?;
    println!(
        "cold: {:7.1} ms, {} requests, {:.0} sequential round trips",
        first_start.ms, first_start.requests, first_start.sequential
    );
    let mut warm = Vec::with_capacity(runs);
    for _ in 0..runs {
        warm.push(measure().await?);
    }
    warm.sort_by(|a, b| a.ms.total_cmp(&b.ms));
    let median = warm[warm.len() / 2];
    let slowest = warm[warm.len() - 1];
    println!(
        "warm ({runs} runs): median {:7.1} ms, {} requests, {:.0} sequential round trips; slowest {:.1} ms ({:.0} round trips)",
        median.ms, median.requests, median.sequential, slowest.ms, slowest.sequential
    );

    // One-click purchases under a budget: the start (incoming payment, quote, no grant) and
    // the click (the outgoing payment with the stored token), each timed on its own.
    let budget = json(
        http.post(format!("{cold}/api/me/budgets"))
            .bearer_auth(&buyer)
            .json(&json!({"amount": "100000.00", "period": "month", "periods": 1})),
    )
    .await?;
    let consent = budget["redirect_url"].as_str().context("a consent page")?;
    let finish = shifting_testkit::approve(consent).await?;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    no_redirects.get(finish).send().await?;
    let budget_id = budget["id"].as_str().context("a budget id")?.to_owned();
    let (mut starts, mut clicks) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for _ in 0..=runs {
        network.requests.store(0, Ordering::Relaxed);
        let at = Instant::now();
        let started = json(
            http.post(format!("{cold}/api/rooms/{code}/payments"))
                .bearer_auth(&buyer)
                .json(&json!({"budget_id": budget_id})),
        )
        .await?;
        let start = Sample::new(
            at.elapsed(),
            network.requests.load(Ordering::Relaxed),
            latency,
        );
        anyhow::ensure!(
            started["one_click"].is_object(),
            "not a one-click purchase: {started}"
        );
        let id = started["transaction"]["id"].as_str().context("an id")?;
        network.requests.store(0, Ordering::Relaxed);
        let at = Instant::now();
        let confirmed = json(
            http.post(format!("{cold}/api/payments/{id}/confirm"))
                .bearer_auth(&buyer),
        )
        .await?;
        let click = Sample::new(
            at.elapsed(),
            network.requests.load(Ordering::Relaxed),
            latency,
        );
        anyhow::ensure!(
            confirmed.get("one_click_refused").is_none(),
            "the budget refused: {confirmed}"
        );
        starts.push(start);
        clicks.push(click);
    }
    // The first purchase under the budget fetched the quote token's wallet documents already:
    // all are warm; the first one is dropped like the cold start above.
    for (name, samples) in [("one-click start", &mut starts), ("one click", &mut clicks)] {
        samples.remove(0);
        samples.sort_by(|a, b| a.ms.total_cmp(&b.ms));
        let median = samples[samples.len() / 2];
        println!(
            "{name} ({runs} runs): median {:7.1} ms, {} requests, {:.0} sequential round trips",
            median.ms, median.requests, median.sequential
        );
    }
    Ok(())
}
