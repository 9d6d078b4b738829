//! Load figures of a real `shifting serve` process, driven by `wrk` (Debian's package) from a
//! second process on loopback. Prints, for SQLite and (when `SHIFTING_TEST_POSTGRES_URL` names
//! a server) PostgreSQL:
//!
//! 1. requests per second and p50/p99 latency of `GET /api/rooms/{code}` and of `GET /health`
//!    in the same run, and their ratio;
//! 2. the p99 of the room view while 32 log-ins run concurrently (argon2 must not starve the
//!    runtime);
//! 3. the server's resident memory idle and with 1,000 open connections, each of which has
//!    been served a request;
//! 4. payment starts per second against a standalone sandbox, with no added latency and with
//!    `LATENCY_MS` (default 50) per request.
//!
//! `scripts/bench-load.sh` installs wrk when it is missing and runs this on both databases:
//! `scripts/with-postgres.sh cargo bench --workspace --bench load`. Environment: `BENCH_SECONDS`
//! per measurement (default 10), `LATENCY_MS`.

// A benchmark program: its figures are its output, and a failed step ends it.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use serde_json::{Value, json};
use shifting_testkit::{
    Memory, PASSWORD, Process, fresh_postgres_database, json, kib_to_mib, ready,
};

const JWT_SECRET: &str = "benchmark secret, long enough for HS256 signing";

/// Starts this crate's `shifting` binary; returns it with the URL it listens at.
async fn shifting(args: &[&str], envs: &[(&str, String)]) -> anyhow::Result<(Process, String)> {
    shifting_testkit::shifting(Path::new(env!("CARGO_BIN_EXE_shifting")), args, envs).await
}

/// A running API, with the processes it needs.
struct Stack {
    api: String,
    sandbox: String,
    server: Process,
    _sandbox: Option<Process>,
}

/// Starts `shifting serve` on `database_url`: with its embedded sandbox, or (with
/// `sandbox_latency`) a standalone sandbox process that delays each request by it.
async fn start(
    dir: &Path,
    database_url: &str,
    sandbox_latency: Option<u64>,
    extra: &[(&'static str, String)],
) -> anyhow::Result<Stack> {
    let http = reqwest::Client::new();
    let data = dir.display().to_string();
    let mut sandbox_process = None;
    let mut sandbox = None;
    if let Some(latency) = sandbox_latency {
        let (process, url) = shifting(
            &["sandbox", "--addr", "127.0.0.1:0", "--data-dir", &data],
            &[
                ("SHIFTING_SANDBOX_WAIT_SECS", "0".into()),
                ("SHIFTING_SANDBOX_LATENCY_MS", latency.to_string()),
            ],
        )
        .await?;
        ready(&http, &format!("{url}/accounts")).await?;
        sandbox_process = Some(process);
        sandbox = Some(url);
    }
    let mut envs = vec![
        ("SHIFTING_DATABASE_URL", database_url.to_owned()),
        ("SHIFTING_JWT_SECRET", JWT_SECRET.into()),
        ("SHIFTING_WEB_DIR", dir.join("no-web").display().to_string()),
        ("SHIFTING_AUTH_RATE_LIMIT_PER_MINUTE", "1000000".into()),
        ("SHIFTING_AUTH_RATE_LIMIT_BURST", "1000000".into()),
        ("SHIFTING_PAYMENT_RATE_LIMIT_PER_MINUTE", "1000000".into()),
        ("SHIFTING_PAYMENT_RATE_LIMIT_BURST", "1000000".into()),
        ("SHIFTING_SANDBOX_WAIT_SECS", "0".into()),
        // The 1,000 connections are opened one after the other and must all still be open.
        ("SHIFTING_HEADER_READ_TIMEOUT_SECS", "120".into()),
    ];
    envs.extend(sandbox.clone().map(|url| ("SHIFTING_SANDBOX_URL", url)));
    envs.extend(extra.iter().cloned());
    let (server, api) = shifting(
        &["serve", "--addr", "127.0.0.1:0", "--data-dir", &data],
        &envs,
    )
    .await?;
    ready(&http, &format!("{api}/ready")).await?;
    let sandbox = sandbox.unwrap_or_else(|| format!("{api}/sandbox"));
    Ok(Stack {
        api,
        sandbox,
        server,
        _sandbox: sandbox_process,
    })
}

/// Signs `name` up with the sandbox wallet `wallet`; returns the access token.
async fn trader(stack: &Stack, name: &str, wallet: &str) -> anyhow::Result<String> {
    shifting_testkit::trader(
        &reqwest::Client::new(),
        &stack.api,
        &stack.sandbox,
        name,
        wallet,
    )
    .await
}

/// A seller with an open room; returns the room's code.
async fn room(stack: &Stack) -> anyhow::Result<String> {
    let seller = trader(stack, "seller", "alice").await?;
    let room = json(
        reqwest::Client::new()
            .post(format!("{}/api/rooms", stack.api))
            .bearer_auth(&seller)
            .json(&json!({"name": "Guitar lesson", "description": "One hour, online.", "price": "25.00"})),
    )
    .await?;
    Ok(room["code"].as_str().context("no room code")?.to_owned())
}

/// Three buyers pay for room `code` and review it, so the room view carries its rating, the
/// seller's and their spread.
async fn reviewed(stack: &Stack, code: &str) -> anyhow::Result<()> {
    for (name, wallet, stars) in [
        ("rev-one", "bruno", 5),
        ("rev-two", "carmen", 4),
        ("rev-three", "kenji", 4),
    ] {
        let buyer = trader(stack, name, wallet).await?;
        shifting_testkit::buy_and_review(&stack.api, &buyer, code, stars, "Clear and patient.")
            .await?;
    }
    Ok(())
}

/// What one wrk run measured.
#[derive(Debug, Default)]
struct Run {
    requests_per_second: f64,
    p50_us: f64,
    p99_us: f64,
    requests: u64,
    not_ok: u64,
    socket_errors: u64,
}

impl Run {
    fn line(&self, what: &str) -> String {
        format!(
            "{what:<44} {:>9.0} req/s   p50 {:>8.2} ms   p99 {:>8.2} ms   ({} requests, {} not 2xx/3xx, {} socket errors)",
            self.requests_per_second,
            self.p50_us / 1000.0,
            self.p99_us / 1000.0,
            self.requests,
            self.not_ok,
            self.socket_errors,
        )
    }
}

/// `wrk --latency` with `connections` connections on one thread for `seconds`, optionally with
/// a Lua script (for the method, headers and body).
fn wrk(url: &str, connections: u32, seconds: u64, script: Option<&Path>) -> anyhow::Result<Run> {
    let mut command = Command::new("wrk");
    command.args([
        "--latency",
        "-t1",
        &format!("-c{connections}"),
        &format!("-d{seconds}s"),
        "--timeout",
        "10s",
    ]);
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    let output = command
        .arg(url)
        .output()
        .context("cannot run wrk (scripts/bench-load.sh installs it)")?;
    let text = String::from_utf8_lossy(&output.stdout);
    ensure!(output.status.success(), "wrk failed: {text}");
    parse_wrk(&text).with_context(|| format!("cannot read wrk's output:\n{text}"))
}

fn parse_wrk(text: &str) -> anyhow::Result<Run> {
    let mut run = Run::default();
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["50%", value] => run.p50_us = duration_us(value)?,
            ["99%", value] => run.p99_us = duration_us(value)?,
            ["Requests/sec:", value] => run.requests_per_second = value.parse()?,
            [count, "requests", "in", ..] => run.requests = count.parse()?,
            ["Non-2xx", "or", "3xx", "responses:", count] => run.not_ok = count.parse()?,
            ["Socket", "errors:", rest @ ..] => {
                run.socket_errors = rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum();
            }
            _ => {}
        }
    }
    ensure!(run.requests > 0, "no requests were made");
    Ok(run)
}

fn duration_us(value: &str) -> anyhow::Result<f64> {
    let split = value
        .find(|c: char| c.is_ascii_alphabetic())
        .context("a duration without a unit")?;
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse()?;
    Ok(match unit {
        "us" => number,
        "ms" => number * 1000.0,
        "s" => number * 1_000_000.0,
        "m" => number * 60_000_000.0,
        other => bail!("unknown unit {other}"),
    })
}

/// A wrk script sending `method` with a JSON `body` and an optional bearer token.
fn script(
    dir: &Path,
    name: &str,
    method: &str,
    body: &Value,
    token: Option<&str>,
) -> anyhow::Result<PathBuf> {
    let mut lua = format!(
        "wrk.method = \"{method}\"\nwrk.body = [[{body}]]\nwrk.headers[\"Content-Type\"] = \"application/json\"\n"
    );
    if let Some(token) = token {
        lua.push_str(&format!(
            "wrk.headers[\"Authorization\"] = \"Bearer {token}\"\n"
        ));
    }
    let path = dir.join(format!("{name}.lua"));
    std::fs::write(&path, lua)?;
    Ok(path)
}

/// Opens `count` connections and has each served one keep-alive request; returns them open.
async fn open_connections(api: &str, count: usize) -> anyhow::Result<Vec<tokio::net::TcpStream>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = api.trim_start_matches("http://");
    let mut open = Vec::with_capacity(count);
    for _ in 0..count {
        let mut stream = tokio::net::TcpStream::connect(address).await?;
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: shifting\r\n\r\n")
            .await?;
        let mut buffer = [0_u8; 1024];
        let read = stream.read(&mut buffer).await?;
        ensure!(
            buffer[..read].starts_with(b"HTTP/1.1 200"),
            "connection {} was not served: {}",
            open.len(),
            String::from_utf8_lossy(&buffer[..read])
        );
        open.push(stream);
    }
    Ok(open)
}

/// The read figures, on `database_url`, and on `uncached_url` without the room view cache.
async fn read_and_health(
    database: &str,
    database_url: &str,
    uncached_url: &str,
    seconds: u64,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let stack = start(dir.path(), database_url, None, &[]).await?;
    let code = room(&stack).await?;
    reviewed(&stack, &code).await?;
    let room_url = format!("{}/api/rooms/{code}", stack.api);
    let health_url = format!("{}/health", stack.api);
    // Warm-up: the pool's connections and the allocator's arenas.
    wrk(&room_url, 32, 2, None)?;
    let view = wrk(&room_url, 32, seconds, None)?;
    let health = wrk(&health_url, 32, seconds, None)?;
    println!(
        "{}",
        health.line(&format!("[{database}] GET /health, 32 connections"))
    );
    println!(
        "{}",
        view.line(&format!(
            "[{database}] GET /api/rooms/{{code}}, 32 connections"
        ))
    );
    println!(
        "[{database}] room view (3 reviews) / health throughput ratio: {:.2} (target ≥ 0.85)",
        view.requests_per_second / health.requests_per_second
    );

    // The same without the in-memory copy of the view: a database query per request.
    {
        let dir = tempfile::tempdir()?;
        let uncached = start(
            dir.path(),
            uncached_url,
            None,
            &[("SHIFTING_ROOM_VIEW_CACHE_MS", "0".into())],
        )
        .await?;
        let code = room(&uncached).await?;
        reviewed(&uncached, &code).await?;
        let url = format!("{}/api/rooms/{code}", uncached.api);
        wrk(&url, 32, 2, None)?;
        let run = wrk(&url, 32, seconds, None)?;
        println!(
            "{}",
            run.line(&format!(
                "[{database}] GET /api/rooms/{{code}} uncached, 32 conns"
            ))
        );
    }

    if database == "SQLite" {
        // Memory at 1,000 open connections, after the read load above (so the figure includes
        // what it left allocated) and before the log-ins (whose argon2 memory is its own figure).
        let idle = Memory::of(stack.server.pid())?;
        let connections = open_connections(&stack.api, 1000).await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let held = Memory::of(stack.server.pid())?;
        let still = reqwest::get(&health_url).await?.status();
        println!(
            "[{database}] RSS idle {}\n[{database}] RSS with 1,000 open connections {} (target ≤ 64 MiB); \
             {:.1} KiB per connection; one more client is answered {still}",
            idle.describe(),
            held.describe(),
            kib_to_mib(held.rss.saturating_sub(idle.rss)) * 1024.0 / 1000.0,
        );
        drop(connections);
    }

    // The room view while 32 log-ins (argon2id, 19 MiB, t=2) run at once.
    trader(&stack, "buyer", "bruno").await?;
    let login = script(
        dir.path(),
        "login",
        "POST",
        &json!({"login": "buyer", "password": PASSWORD}),
        None,
    )?;
    let login_url = format!("{}/api/auth/login", stack.api);
    let during = std::thread::scope(|scope| {
        let logins = scope.spawn(|| wrk(&login_url, 32, seconds, Some(&login)));
        // The room view's load is light (4 connections), so its p99 shows starvation, not
        // queueing behind its own requests.
        let view = wrk(&room_url, 4, seconds, None);
        (logins.join(), view)
    });
    let (Ok(logins), view) = during else {
        bail!("the log-in load thread panicked");
    };
    let (logins, view) = (logins?, view?);
    println!(
        "{}",
        logins.line(&format!(
            "[{database}] POST /api/auth/login, 32 connections"
        ))
    );
    println!(
        "{}",
        view.line(&format!(
            "[{database}] GET /api/rooms/{{code}} meanwhile, 4 conns"
        ))
    );
    println!(
        "[{database}] room view p99 during 32 log-ins: {:.2} ms (target ≤ 20 ms)",
        view.p99_us / 1000.0
    );
    let after = Memory::of(stack.server.pid())?;
    println!(
        "[{database}] after the log-ins: RSS {}; peak RSS of the run {:.1} MiB",
        after.describe(),
        kib_to_mib(after.peak)
    );

    Ok(())
}

async fn payment_starts(
    database: &str,
    database_url: &str,
    latency: u64,
    seconds: u64,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let stack = start(dir.path(), database_url, Some(latency), &[]).await?;
    let code = room(&stack).await?;
    let buyer = trader(&stack, "buyer", "bruno").await?;
    let start = script(dir.path(), "start", "POST", &json!({}), Some(&buyer))?;
    let url = format!("{}/api/rooms/{code}/payments", stack.api);
    // The first start warms the wallet and token caches.
    wrk(&url, 1, 1, Some(&start))?;
    let run = wrk(&url, 8, seconds, Some(&start))?;
    println!(
        "{}",
        run.line(&format!(
            "[{database}] payment starts, sandbox +{latency} ms/request, 8 conns"
        ))
    );
    Ok(())
}

async fn run() -> anyhow::Result<()> {
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let latency: u64 = std::env::var("LATENCY_MS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!(
        "shifting load benchmark: {cores} cores, {seconds} s per measurement, wrk on loopback"
    );
    let sqlite_dir = tempfile::tempdir()?;
    let sqlite = |name: &str| {
        format!(
            "sqlite://{}?mode=rwc",
            sqlite_dir.path().join(name).display()
        )
    };
    let postgres = std::env::var("SHIFTING_TEST_POSTGRES_URL").ok();

    read_and_health(
        "SQLite",
        &sqlite("reads.db"),
        &sqlite("reads-uncached.db"),
        seconds,
    )
    .await?;
    if let Some(server) = &postgres {
        read_and_health(
            "PostgreSQL",
            &fresh_postgres_database(server).await?,
            &fresh_postgres_database(server).await?,
            seconds,
        )
        .await?;
    } else {
        println!("[PostgreSQL] skipped: run through scripts/with-postgres.sh");
    }
    for latency in [0, latency] {
        payment_starts(
            "SQLite",
            &sqlite(&format!("starts-{latency}.db")),
            latency,
            seconds,
        )
        .await?;
        if let Some(server) = &postgres {
            payment_starts(
                "PostgreSQL",
                &fresh_postgres_database(server).await?,
                latency,
                seconds,
            )
            .await?;
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    run().await
}
