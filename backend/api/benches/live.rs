//! Live socket figures of real `shifting serve` processes:
//!
//! 1. **Idle sockets.** 10,000 authenticated live sockets (100 users, 100 sockets each) on one
//!    process on SQLite: the server's resident memory before and with them open.
//! 2. **Fan-out across replicas** (when `SHIFTING_TEST_POSTGRES_URL` names a PostgreSQL server).
//!    Two replicas, A and B, on one database; 10 sellers with a room each and 100 buyers, each
//!    in a conversation with every room (1,000 conversations); every one of them holds a socket
//!    on B. Messages are posted through A at `BENCH_RATE` per second (default 200), round-robin
//!    over the conversations, alternately by the buyer and the seller, for `BENCH_SECONDS`
//!    (default 10). The latency is from the start of the POST on A to the arrival of the message
//!    on the recipient's socket on B: p50, p99 and the largest, and how many never arrived.
//!
//! `scripts/with-postgres.sh cargo bench --workspace --bench live`; figures in
//! `docs/benchmarks.md`.

// A benchmark program: its figures are its output, and a failed step ends it.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use futures::StreamExt;
use futures::stream::{self, TryStreamExt};
use serde_json::{Value, json};
use shifting_testkit::{Memory, Process, fresh_postgres_database, json, ready, signup, trader};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

const JWT_SECRET: &str = "benchmark secret, long enough for HS256 signing";

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn shifting(args: &[&str], envs: &[(&str, String)]) -> anyhow::Result<(Process, String)> {
    shifting_testkit::shifting(Path::new(env!("CARGO_BIN_EXE_shifting")), args, envs).await
}

/// The settings every server of this benchmark runs with.
fn settings(database_url: &str, dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("SHIFTING_DATABASE_URL", database_url.to_owned()),
        ("SHIFTING_JWT_SECRET", JWT_SECRET.into()),
        ("SHIFTING_WEB_DIR", dir.join("no-web").display().to_string()),
        ("SHIFTING_AUTH_RATE_LIMIT_PER_MINUTE", "1000000".into()),
        ("SHIFTING_AUTH_RATE_LIMIT_BURST", "1000000".into()),
        ("SHIFTING_MESSAGE_RATE_LIMIT_PER_MINUTE", "1000000".into()),
        ("SHIFTING_MESSAGE_RATE_LIMIT_BURST", "1000000".into()),
        ("SHIFTING_LIVE_SOCKETS_PER_USER", "100".into()),
        ("SHIFTING_MAX_CONNECTIONS", "20000".into()),
        ("SHIFTING_DATABASE_MAX_CONNECTIONS", "20".into()),
        ("SHIFTING_LOG_FILTER", "warn".into()),
    ]
}

/// Opens a live socket for the holder of `token` and waits for its `ready`.
async fn socket(http: &reqwest::Client, api: &str, token: &str) -> anyhow::Result<Socket> {
    let ticket = json(
        http.post(format!("{api}/api/live/ticket"))
            .bearer_auth(token),
    )
    .await?;
    let ticket = ticket["ticket"].as_str().context("no ticket")?;
    let url = format!("{}/api/live?ticket={ticket}", api.replacen("http", "ws", 1));
    // Small buffers: the client holds 10,000 of these too.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (mut socket, _) =
        tokio_tungstenite::connect_async_with_config(url, Some(config), true).await?;
    let ready = tokio::time::timeout(Duration::from_secs(30), socket.next())
        .await
        .context("no ready in time")?
        .context("closed before ready")??;
    ensure!(
        matches!(&ready, Message::Text(text) if text.contains("\"ready\"")),
        "not ready: {ready:?}"
    );
    Ok(socket)
}

async fn idle_sockets(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let database = format!("sqlite://{}?mode=rwc", dir.join("idle.db").display());
    let data = dir.display().to_string();
    let envs = settings(&database, dir);
    let (server, api) = shifting(
        &["serve", "--addr", "127.0.0.1:0", "--data-dir", &data],
        &envs,
    )
    .await?;
    let http = reqwest::Client::new();
    ready(&http, &format!("{api}/ready")).await?;
    let users: Vec<String> = stream::iter(0..100)
        .map(|n| {
            let (http, api) = (&http, &api);
            async move { signup(http, api, &format!("idle{n}")).await }
        })
        .buffer_unordered(4)
        .try_collect()
        .await?;
    let before = Memory::of(server.pid())?;
    let started = Instant::now();
    let sockets: Vec<Socket> = stream::iter(
        users
            .iter()
            .flat_map(|token| std::iter::repeat_n(token, 100)),
    )
    .map(|token| socket(&http, &api, token))
    .buffer_unordered(64)
    .try_collect()
    .await?;
    let opened = started.elapsed();
    let with = Memory::of(server.pid())?;
    println!(
        "idle sockets: {} opened in {:.1} s; server memory {} idle, {} with them ({:.1} KiB per socket)",
        sockets.len(),
        opened.as_secs_f64(),
        before.describe(),
        with.describe(),
        with.rss.saturating_sub(before.rss) as f64 / sockets.len() as f64,
    );
    drop(sockets);
    Ok(())
}

/// Percentile `p` (0–100) of sorted `values`.
fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

/// One conversation: its id, and the buyer's and the seller's indexes in the people list.
struct Conversation {
    id: String,
    buyer: usize,
    seller: usize,
}

async fn fan_out(dir: &Path, server: &str, seconds: u64, rate: u64) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let database = fresh_postgres_database(server).await?;
    let data = dir.display().to_string();
    let http = reqwest::Client::new();
    let (_sandbox_process, sandbox) = shifting(
        &["sandbox", "--addr", "127.0.0.1:0", "--data-dir", &data],
        &[("SHIFTING_SANDBOX_WAIT_SECS", "0".into())],
    )
    .await?;
    ready(&http, &format!("{sandbox}/accounts")).await?;
    let mut envs = settings(&database, dir);
    envs.push(("SHIFTING_SANDBOX_URL", sandbox.clone()));
    let (_b_process, b) = shifting(
        &["serve", "--addr", "127.0.0.1:0", "--data-dir", &data],
        &envs,
    )
    .await?;
    ready(&http, &format!("{b}/ready")).await?;
    envs.push(("SHIFTING_PUBLIC_URL", b.clone()));
    let (_a_process, a) = shifting(
        &["serve", "--addr", "127.0.0.1:0", "--data-dir", &data],
        &envs,
    )
    .await?;
    ready(&http, &format!("{a}/ready")).await?;

    // People 0–9 sell, 10–109 buy.
    let mut people = Vec::new();
    for n in 0..10 {
        people.push(trader(&http, &a, &sandbox, &format!("seller{n}"), "alice").await?);
    }
    let buyers: Vec<String> = stream::iter(0..100)
        .map(|n| {
            let (http, a) = (&http, &a);
            async move { signup(http, a, &format!("buyer{n}")).await }
        })
        .buffered(4)
        .try_collect()
        .await?;
    people.extend(buyers);
    let mut rooms = Vec::new();
    for seller in &people[..10] {
        let room = json(
            http.post(format!("{a}/api/rooms"))
                .bearer_auth(seller)
                .json(&json!({"name": "Lesson", "price": "5.00"})),
        )
        .await?;
        rooms.push(room["code"].as_str().context("code")?.to_owned());
    }
    let pairs: Vec<(usize, usize)> = (10..110)
        .flat_map(|b| (0..10).map(move |s| (b, s)))
        .collect();
    let conversations: Vec<Conversation> = stream::iter(pairs)
        .map(|(buyer, seller)| {
            let (http, a, people, rooms) = (&http, &a, &people, &rooms);
            async move {
                let opened = json(
                    http.post(format!("{a}/api/rooms/{}/conversation", rooms[seller]))
                        .bearer_auth(&people[buyer]),
                )
                .await?;
                Ok::<_, anyhow::Error>(Conversation {
                    id: opened["id"].as_str().context("id")?.to_owned(),
                    buyer,
                    seller,
                })
            }
        })
        .buffered(16)
        .try_collect()
        .await?;

    // Everyone listens on B; each socket notes when the messages meant for it arrive.
    let arrived: Arc<Mutex<HashMap<u64, Instant>>> = Arc::default();
    let mut readers = Vec::new();
    for (index, token) in people.iter().enumerate() {
        let mut socket = socket(&http, &b, token).await?;
        let arrived = Arc::clone(&arrived);
        readers.push(tokio::spawn(async move {
            while let Some(Ok(frame)) = socket.next().await {
                let Message::Text(text) = frame else { continue };
                let Ok(event) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                let Some(body) = event["message"]["text"].as_str() else {
                    continue;
                };
                // "{seq} for {recipient}"
                let mut words = body.split(' ');
                let (Some(seq), Some(_), Some(to)) = (words.next(), words.next(), words.next())
                else {
                    continue;
                };
                if to.parse::<usize>().ok() == Some(index)
                    && let Ok(seq) = seq.parse::<u64>()
                {
                    arrived.lock().expect("lock").insert(seq, Instant::now());
                }
            }
        }));
    }

    let total = seconds * rate;
    let sent: Arc<Mutex<HashMap<u64, Instant>>> = Arc::default();
    let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
    let mut posts = Vec::new();
    let failures = Arc::new(std::sync::atomic::AtomicU64::new(0));
    for seq in 0..total {
        ticker.tick().await;
        let conversation = &conversations[usize::try_from(seq).unwrap_or(0) % conversations.len()];
        let (from, to) = if seq % 2 == 0 {
            (conversation.buyer, conversation.seller)
        } else {
            (conversation.seller, conversation.buyer)
        };
        let request = http
            .post(format!(
                "{a}/api/conversations/{}/messages",
                conversation.id
            ))
            .bearer_auth(&people[from])
            .json(&json!({"text": format!("{seq} for {to}")}));
        let (sent, failures) = (Arc::clone(&sent), Arc::clone(&failures));
        posts.push(tokio::spawn(async move {
            sent.lock().expect("lock").insert(seq, Instant::now());
            match request.send().await {
                Ok(response) if response.status().is_success() => {}
                _ => {
                    failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }));
    }
    for post in posts {
        post.await?;
    }
    // Wait (bounded) for the last ones to arrive.
    let deadline = Instant::now() + Duration::from_secs(10);
    while arrived.lock().expect("lock").len() < usize::try_from(total).unwrap_or(usize::MAX)
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for reader in readers {
        reader.abort();
    }
    let (sent, arrived) = (sent.lock().expect("lock"), arrived.lock().expect("lock"));
    let mut latencies: Vec<Duration> = sent
        .iter()
        .filter_map(|(seq, at)| {
            arrived
                .get(seq)
                .map(|got| got.saturating_duration_since(*at))
        })
        .collect();
    latencies.sort();
    let failed = failures.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "fan-out A → B over PostgreSQL: {total} messages at {rate}/s over {} conversations, {} sockets on B: \
         p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {} never arrived, {failed} posts failed",
        conversations.len(),
        people.len(),
        percentile(&latencies, 50).as_secs_f64() * 1000.0,
        percentile(&latencies, 99).as_secs_f64() * 1000.0,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
        usize::try_from(total).unwrap_or(usize::MAX) - latencies.len(),
    );
    if failed > 0 {
        bail!("{failed} posts failed");
    }
    Ok(())
}

async fn run() -> anyhow::Result<()> {
    let number = |name: &str, default: u64| -> u64 {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (seconds, rate) = (number("BENCH_SECONDS", 10), number("BENCH_RATE", 200));
    let _ = rustls::crypto::ring::default_provider().install_default();
    // 10,000 sockets on each side of loopback.
    rlimit::increase_nofile_limit(40_000).context("cannot raise the open-file limit")?;
    let dir = tempfile::tempdir()?;
    idle_sockets(&dir.path().join("idle")).await?;
    match std::env::var("SHIFTING_TEST_POSTGRES_URL") {
        Ok(server) => fan_out(&dir.path().join("fan-out"), &server, seconds, rate).await?,
        Err(_) => println!("fan-out: skipped (run under scripts/with-postgres.sh)"),
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; this program takes no arguments.
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}
