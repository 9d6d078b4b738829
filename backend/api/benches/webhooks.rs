//! Webhook delivery throughput of one `shifting serve` process: `BENCH_EVENTS` (default 2,000)
//! `room.created` messages for one endpoint are written into the outbox in one transaction
//! (as events are, with the change they tell), and the process's webhook sender posts them,
//! signed, to a receiver in this program on loopback that answers 200 at once. The figure is
//! the messages delivered per second from the commit to the last arrival, and the time of the
//! first and last arrival. On SQLite, and on PostgreSQL when `SHIFTING_TEST_POSTGRES_URL` names
//! a server.
//!
//! `scripts/with-postgres.sh cargo bench --workspace --bench webhooks`; figures in
//! `docs/benchmarks.md`.

// A benchmark program: its figures are its output, and a failed step ends it.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use sea_orm::TransactionTrait;
use serde_json::json;
use shifting_shared::webhooks::{EventData, EventType, RoomEventData};
use shifting_testkit::{Process, fresh_postgres_database, json, ready, signup};

const JWT_SECRET: &str = "benchmark secret, long enough for HS256 signing";

async fn shifting(args: &[&str], envs: &[(&str, String)]) -> anyhow::Result<(Process, String)> {
    shifting_testkit::shifting(Path::new(env!("CARGO_BIN_EXE_shifting")), args, envs).await
}

/// A receiver answering 200 to everything; counts the requests and notes the first and last
/// arrival.
struct Receiver {
    url: String,
    count: Arc<tokio::sync::watch::Sender<usize>>,
    first: Arc<std::sync::Mutex<Option<Instant>>>,
    last: Arc<std::sync::Mutex<Option<Instant>>>,
}

async fn receiver() -> anyhow::Result<Receiver> {
    let count = Arc::new(tokio::sync::watch::Sender::new(0));
    let first = Arc::new(std::sync::Mutex::new(None));
    let last = Arc::new(std::sync::Mutex::new(None));
    let (c, f, l) = (Arc::clone(&count), Arc::clone(&first), Arc::clone(&last));
    let app = axum::Router::new().fallback(move |_body: String| {
        let (c, f, l) = (Arc::clone(&c), Arc::clone(&f), Arc::clone(&l));
        async move {
            let now = Instant::now();
            f.lock().expect("lock").get_or_insert(now);
            *l.lock().expect("lock") = Some(now);
            c.send_modify(|count| *count += 1);
            axum::http::StatusCode::OK
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hooks", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(Receiver {
        url,
        count,
        first,
        last,
    })
}

async fn measure(label: &str, database_url: String, events: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().display().to_string();
    let (_server, api) = shifting(
        &["serve", "--addr", "127.0.0.1:0", "--data-dir", &data],
        &[
            ("SHIFTING_DATABASE_URL", database_url.clone()),
            ("SHIFTING_JWT_SECRET", JWT_SECRET.into()),
            (
                "SHIFTING_WEB_DIR",
                dir.path().join("no-web").display().to_string(),
            ),
            ("SHIFTING_LOG_FILTER", "warn".into()),
        ],
    )
    .await?;
    let http = reqwest::Client::new();
    ready(&http, &format!("{api}/ready")).await?;
    let token = signup(&http, &api, "integrator").await?;
    let me = json(http.get(format!("{api}/api/me")).bearer_auth(&token)).await?;
    let user: uuid::Uuid = me["id"].as_str().context("an id")?.parse()?;
    let receiver = receiver().await?;
    json(
        http.post(format!("{api}/api/webhooks"))
            .bearer_auth(&token)
            .json(&json!({ "url": receiver.url, "event_types": ["room.created"] })),
    )
    .await?;

    let db = sea_orm::Database::connect(&database_url).await?;
    let txn = db.begin().await?;
    let now = chrono::Utc::now();
    for n in 0..events {
        let data = EventData::Room(RoomEventData {
            room_code: format!("B{n:05}"),
            name: format!("Lesson {n}"),
            price: shifting_shared::api::AmountDto {
                value: "2500".into(),
                asset_code: "USD".into(),
                asset_scale: 2,
            },
            closed: false,
        });
        shifting_api::webhooks::emit(
            &txn,
            EventType::RoomCreated,
            &[user],
            data,
            &format!("bench:{n}"),
            now,
        )
        .await?;
    }
    txn.commit().await?;
    let committed = Instant::now();
    let mut arrived = receiver.count.subscribe();
    let all = tokio::time::timeout(
        Duration::from_secs(600),
        arrived.wait_for(|count| *count >= events),
    )
    .await;
    ensure!(
        matches!(all, Ok(Ok(_))),
        "not every message arrived in 10 minutes"
    );
    let first = receiver.first.lock().expect("lock").context("no arrival")?;
    let last = receiver.last.lock().expect("lock").context("no arrival")?;
    let took = last.duration_since(committed).as_secs_f64();
    println!(
        "{label}: {events} messages delivered in {took:.2} s = {:.0} events/s (first arrival after {} ms; \
         the sender notices new rows within its 1 s idle poll when no request wakes it)",
        events as f64 / took,
        first.duration_since(committed).as_millis(),
    );
    db.close().await.ok();
    Ok(())
}

async fn run() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let events: usize = std::env::var("BENCH_EVENTS")
        .ok()
        .map(|v| v.parse())
        .transpose()?
        .unwrap_or(2000);
    let dir = tempfile::tempdir()?;
    let sqlite = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    measure("SQLite", sqlite, events).await?;
    if let Ok(server) = std::env::var("SHIFTING_TEST_POSTGRES_URL") {
        measure(
            "PostgreSQL",
            fresh_postgres_database(&server).await?,
            events,
        )
        .await?;
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
