//! Helpers for tests and benchmarks that run `shifting` as its own process: starting it (killed
//! when dropped), waiting until it answers, calling its JSON API, and the accounts a payment
//! needs. Dev-only: nothing here ships. Errors are returned, so a benchmark can report them and a
//! test can `expect` them with its own words.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use serde_json::{Value, json};

/// The password every account made by [`trader`] has.
pub const PASSWORD: &str = "correct horse battery staple";

/// A child process, killed and reaped when dropped, so a failed test leaves nothing behind.
#[derive(Debug)]
pub struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Process {
    /// Takes ownership of a started child.
    #[must_use]
    pub fn from_child(child: Child) -> Self {
        Self(child)
    }

    /// The process id.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    /// Kills the process at once (SIGKILL: no shutdown, no clean-up) and reaps it.
    pub fn kill(self) {
        drop(self);
    }
}

/// A port that was free a moment ago. Another process may take it before the caller binds it:
/// only for programs that cannot bind port 0 and say which port they got (nginx).
///
/// # Errors
/// When no port can be bound.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// How long a `shifting` process may take to say where it listens (migrations included).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The words before the URL in the line `shifting serve` and `shifting sandbox` print once
/// they listen.
const RUNNING_AT: &str = "is running at ";

/// Starts the `shifting` binary at `binary` with `args` and `envs`, logging only errors, and
/// returns it with the URL it listens at, as it printed it (without a trailing slash). `args`
/// should bind port 0 (`--addr 127.0.0.1:0`): the server takes a free port itself, so parallel
/// runs never collide. Its standard output is discarded; its standard error is read (and is
/// the error when it exits before listening).
///
/// # Errors
/// When the binary cannot be started or exits or stalls before it listens.
pub async fn shifting(
    binary: &Path,
    args: &[&str],
    envs: &[(&str, String)],
) -> anyhow::Result<(Process, String)> {
    let mut command = Command::new(binary);
    command
        .args(args)
        .env("SHIFTING_LOG_FILTER", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (name, value) in envs {
        command.env(name, value);
    }
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    let stderr = child.stderr.take().context("no standard error to read")?;
    let process = Process(child);
    let (tell, told) = tokio::sync::oneshot::channel::<Result<String, String>>();
    // Read to the end, so the child never blocks on a full pipe.
    std::thread::spawn(move || {
        let mut tell = Some(tell);
        let mut seen = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let Some(waiting) = tell.take() else {
                continue;
            };
            let url = line
                .split_once(RUNNING_AT)
                .and_then(|(_, rest)| rest.split_whitespace().next());
            match url {
                Some(url) => {
                    let _ = waiting.send(Ok(url.trim_end_matches('/').to_owned()));
                }
                None => {
                    seen.push_str(&line);
                    seen.push('\n');
                    tell = Some(waiting);
                }
            }
        }
        if let Some(tell) = tell {
            let _ = tell.send(Err(seen));
        }
    });
    match tokio::time::timeout(START_TIMEOUT, told).await {
        Ok(Ok(Ok(url))) => Ok((process, url)),
        Ok(Ok(Err(output))) => bail!(
            "shifting {} exited before listening:\n{output}",
            args.join(" ")
        ),
        Ok(Err(_)) => bail!("shifting {} stopped being read", args.join(" ")),
        Err(_) => bail!(
            "shifting {} did not listen within {START_TIMEOUT:?}",
            args.join(" ")
        ),
    }
}

/// Waits until `url` answers 2xx: polls every 50 ms, at most 30 s (a start, not a passage of
/// time: it returns as soon as the server answers).
///
/// # Errors
/// When it never does.
pub async fn ready(http: &reqwest::Client, url: &str) -> anyhow::Result<()> {
    for _ in 0..600 {
        if let Ok(response) = http.get(url).send().await
            && response.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("{url} never became ready")
}

/// Sends `request` and returns its JSON body.
///
/// # Errors
/// When it fails, is not 2xx (the body is in the message) or is not JSON.
pub async fn json(request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
    let response = request.send().await?;
    let status = response.status();
    let body: Value = response.json().await?;
    ensure!(status.is_success(), "{status}: {body}");
    Ok(body)
}

/// Signs `name` up on the API at `api` (password [`PASSWORD`]) and gives them the wallet
/// `wallet` of the sandbox at `sandbox`; returns the access token.
///
/// # Errors
/// When the sign-up or the wallet change fails.
pub async fn trader(
    http: &reqwest::Client,
    api: &str,
    sandbox: &str,
    name: &str,
    wallet: &str,
) -> anyhow::Result<String> {
    let token = signup(http, api, name).await?;
    json(
        http.patch(format!("{api}/api/me"))
            .bearer_auth(&token)
            .json(&json!({"wallet_address": format!("{sandbox}/{wallet}")})),
    )
    .await?;
    Ok(token)
}

/// Signs `name` up on the API at `api` (e-mail `{name}@example.com`, password [`PASSWORD`]);
/// returns the access token.
///
/// # Errors
/// When the sign-up fails.
pub async fn signup(http: &reqwest::Client, api: &str, name: &str) -> anyhow::Result<String> {
    let account = json(http.post(format!("{api}/api/auth/signup")).json(&json!({
        "username": name, "email": format!("{name}@example.com"), "password": PASSWORD,
    })))
    .await?;
    Ok(account["access_token"]
        .as_str()
        .context("the sign-up answered no access token")?
        .to_owned())
}

/// A sandbox account's balance in minor units, from `{sandbox}/accounts`.
///
/// # Errors
/// When the list cannot be read or has no such account.
pub async fn balance(http: &reqwest::Client, sandbox: &str, name: &str) -> anyhow::Result<i64> {
    let accounts = json(http.get(format!("{sandbox}/accounts"))).await?;
    let balance = accounts["accounts"]
        .as_array()
        .and_then(|all| all.iter().find(|a| a["name"] == name))
        .and_then(|a| a["balance"].as_str())
        .with_context(|| format!("no sandbox account {name}"))?;
    Ok(balance.parse()?)
}

/// A PNG that claims `width` × `height` pixels and holds none (an empty compressed stream):
/// what a decompression bomb looks like to whoever reads its header before its pixels.
#[must_use]
pub fn claimed_png(width: u32, height: u32) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFF_u32;
        for byte in data {
            crc ^= u32::from(*byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    0xEDB8_8320 ^ (crc >> 1)
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    let mut header = width.to_be_bytes().to_vec();
    header.extend(height.to_be_bytes());
    header.extend([8, 2, 0, 0, 0]);
    let mut file = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [
        (&b"IHDR"[..], &header[..]),
        (b"IDAT", b"\x78\x9c\x03\x00\x00\x00\x00\x01"),
        (b"IEND", b""),
    ] {
        let mut chunk = kind.to_vec();
        chunk.extend(data);
        let length = u32::try_from(data.len()).unwrap_or(u32::MAX);
        file.extend(length.to_be_bytes());
        file.extend(&chunk);
        file.extend(crc32(&chunk).to_be_bytes());
    }
    file
}

/// Approves the grant on the sandbox's consent page at `consent` as a browser would; returns
/// the finish URL the wallet sends the browser to.
///
/// # Errors
/// When the page has no form or the answer does not redirect.
pub async fn approve(consent: &str) -> anyhow::Result<String> {
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let page = browser.get(consent).send().await?.text().await?;
    let start = page.find("action=\"").context("no consent form")? + "action=\"".len();
    let end = start
        + page[start..]
            .find('"')
            .context("no end of the form action")?;
    let action = page[start..end].replace("&amp;", "&");
    let answer = browser
        .post(action)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("decision=approve")
        .send()
        .await?;
    Ok(answer
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .context("the consent did not redirect")?
        .to_owned())
}

/// The buyer holding `token` pays for room `code` at the API at `api` (approving on the
/// sandbox's consent page as a browser would), waits until the payment completes, and reviews
/// it with `rating` stars and `text`.
///
/// # Errors
/// When a step fails or the payment does not complete.
pub async fn buy_and_review(
    api: &str,
    token: &str,
    code: &str,
    rating: u8,
    text: &str,
) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let started = json(
        http.post(format!("{api}/api/rooms/{code}/payments"))
            .bearer_auth(token)
            .json(&json!({})),
    )
    .await?;
    let id = started["transaction"]["id"]
        .as_str()
        .context("no transaction id")?
        .to_owned();
    let consent = started["redirect_url"].as_str().context("no redirect")?;
    let finish = approve(consent).await?;
    http.get(finish).send().await?;
    let mut completed = false;
    for _ in 0..500 {
        let transaction = json(
            http.get(format!("{api}/api/transactions/{id}"))
                .bearer_auth(token),
        )
        .await?;
        if transaction["status"] == "completed" {
            completed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    ensure!(completed, "the purchase of {code} never completed");
    json(
        http.post(format!("{api}/api/transactions/{id}/review"))
            .bearer_auth(token)
            .json(&json!({"rating": rating, "text": text})),
    )
    .await?;
    Ok(())
}

/// A process's memory, from `/proc/{pid}/status`, in KiB.
#[derive(Clone, Copy, Debug)]
pub struct Memory {
    /// `VmRSS`: resident memory.
    pub rss: u64,
    /// `RssAnon`: the heap, stacks and buffers (what the process itself allocated).
    pub anon: u64,
    /// `RssFile`: mapped files, mostly the binary's own code (shared and reclaimable).
    pub file: u64,
    /// `VmHWM`: the peak of `VmRSS`.
    pub peak: u64,
}

impl Memory {
    /// Reads the memory of process `pid`.
    ///
    /// # Errors
    /// When `/proc/{pid}/status` cannot be read or lacks a field.
    pub fn of(pid: u32) -> anyhow::Result<Self> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let field = |name: &str| -> anyhow::Result<u64> {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .with_context(|| format!("no {name} in /proc/{pid}/status"))?
                .parse()
                .map_err(Into::into)
        };
        Ok(Self {
            rss: field("VmRSS:")?,
            anon: field("RssAnon:")?,
            file: field("RssFile:")?,
            peak: field("VmHWM:")?,
        })
    }

    /// `12.3 MiB (allocated 8.1 + mapped code 4.2)`.
    #[must_use]
    pub fn describe(self) -> String {
        format!(
            "{:.1} MiB (allocated {:.1} + mapped code {:.1})",
            kib_to_mib(self.rss),
            kib_to_mib(self.anon),
            kib_to_mib(self.file)
        )
    }
}

/// KiB as MiB, for display (memory figures are far below 2^52 KiB).
#[must_use]
pub fn kib_to_mib(kib: u64) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let kib = kib as f64;
    kib / 1024.0
}

/// Creates an empty database on the PostgreSQL server at `server` (a URL with a database
/// path) and returns the new database's URL.
///
/// # Errors
/// When the server refuses.
pub async fn fresh_postgres_database(server: &str) -> anyhow::Result<String> {
    use sea_orm::ConnectionTrait;
    let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
    let admin = sea_orm::Database::connect(server).await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    admin.close().await?;
    let (base, _) = server
        .rsplit_once('/')
        .context("the server URL has no database path")?;
    Ok(format!("{base}/{name}"))
}
