//! End-to-end test harness for Shifting: the real server (in-process, fresh SQLite, the built web
//! app) driven by headless Chromium over WebDriver. Waits are event-based with a timeout, and a
//! failing scenario leaves a screenshot and the page HTML under `target/e2e-artifacts/`.

use std::net::TcpListener as StdListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use shifting_api::{App, RawSettings, Settings};

/// The password every scenario's users sign up with.
pub const PASSWORD: &str = "correct horse battery staple";

/// How long any wait may take before the scenario fails.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// The repository root.
#[must_use]
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A running Shifting server with its own data directory.
#[derive(Debug)]
pub struct Server {
    /// Base URL, such as `http://127.0.0.1:41234`.
    pub url: String,
    db: sea_orm::DatabaseConnection,
    clock: shifting_open_payments::Clock,
    _data: tempfile::TempDir,
}

impl Server {
    /// Starts the server on a free port with a fresh SQLite database and the built web app.
    ///
    /// # Errors
    /// When the web app is not built or the server cannot start.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(|_| {}).await
    }

    /// Like [`Server::start`], after `customize` adjusts the settings (a short quote lifetime …).
    ///
    /// # Errors
    /// When the web app is not built or the server cannot start.
    pub async fn start_with(customize: impl FnOnce(&mut RawSettings)) -> anyhow::Result<Self> {
        let web_dir = std::env::var_os("SHIFTING_E2E_WEB_DIR")
            .map_or_else(|| repo_root().join("dist"), PathBuf::from);
        if !web_dir.join("index.html").is_file() {
            bail!(
                "the web app is not built in {}: run `trunk build --release` (scripts/test.sh does it)",
                web_dir.display()
            );
        }
        let data = tempfile::tempdir()?;
        let mut raw = RawSettings::default();
        raw.server.addr = "127.0.0.1:0".into();
        raw.server.web_dir = web_dir;
        raw.database.data_dir = data.path().to_owned();
        // As the Interledger test network's local setup: continuing a grant waits 1 s.
        raw.sandbox.sandbox_wait_secs = 1;
        customize(&mut raw);
        let settings = Settings::from_raw(raw).map_err(|e| anyhow::anyhow!("{e}"))?;
        let app = App::build(settings).await?;
        let url = format!("http://127.0.0.1:{}", app.port());
        let (db, clock) = (app.db().clone(), app.clock().clone());
        tokio::spawn(app.run_until(std::future::pending()));
        Ok(Self {
            url,
            db,
            clock,
            _data: data,
        })
    }

    /// Makes `username` an admin, as `shifting admin grant USERNAME` does on a server.
    ///
    /// # Errors
    /// When no account has that name.
    pub async fn make_admin(&self, username: &str) -> anyhow::Result<()> {
        use shifting_api::services::admin::{Actor, UserRef, set_role};
        set_role(
            &self.db,
            &Actor::command_line(),
            UserRef::Name(username),
            (shifting_shared::admin::Role::Admin, "End-to-end test."),
            self.clock.now(),
        )
        .await
        .map_err(|err| anyhow::anyhow!("{err}"))?;
        Ok(())
    }

    /// Waits until `sql` (selecting one integer `n`) counts `n` in the server's database: for
    /// what a background worker records after the browser could see it (bounded by attempts,
    /// like the other waits).
    ///
    /// # Errors
    /// When it never does, or the query fails.
    pub async fn wait_for_count(&self, sql: &str, n: i64) -> anyhow::Result<()> {
        use sea_orm::{ConnectionTrait, Statement};
        let mut last = None;
        for _ in 0..1000 {
            let row = self
                .db
                .query_one_raw(Statement::from_string(self.db.get_database_backend(), sql))
                .await?;
            let found: Option<i64> = row.map(|row| row.try_get("", "n")).transpose()?;
            if found == Some(n) {
                return Ok(());
            }
            last = found;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        anyhow::bail!("{sql} counted {last:?}, never {n}")
    }
}

/// ChromeDriver with one headless Chromium session. Dropping it kills ChromeDriver's whole
/// process group, so a failed test leaves no browser behind.
#[derive(Debug)]
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    driver: Option<Child>,
    profile: tempfile::TempDir,
}

impl Browser {
    /// Starts ChromeDriver and a headless Chromium with a fresh profile, in English.
    ///
    /// # Errors
    /// When ChromeDriver or Chromium cannot start.
    pub async fn start(width: u32, height: u32) -> anyhow::Result<Self> {
        Self::start_in(width, height, "en-US").await
    }

    /// Like [`Browser::start`], with `language` (`es-ES` …) as the browser's preferred language:
    /// what `navigator.languages` and every request's `Accept-Language` say.
    ///
    /// # Errors
    /// When ChromeDriver or Chromium cannot start.
    pub async fn start_in(width: u32, height: u32, language: &str) -> anyhow::Result<Self> {
        let port = StdListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut command =
            Command::new(std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into()));
        command
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let driver = command
            .spawn()
            .context("cannot start chromedriver (install it with scripts/install-test-tools.sh)")?;
        let profile = tempfile::tempdir()?;
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            &format!("--user-data-dir={}", profile.path().display()),
            &format!("--window-size={width},{height}"),
            &format!("--lang={language}"),
        ];
        let primary = language.split('-').next().unwrap_or(language);
        let mut options = serde_json::json!({
            "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": args,
            "prefs": {
                "intl": { "accept_languages": format!("{language},{primary}") },
                // Downloads land in the profile, without asking, where tests read them.
                "download": {
                    "default_directory": profile.path().join("downloads"),
                    "prompt_for_download": false,
                },
            },
        });
        // Headless windows are at least 500 px wide: phones get a real viewport by emulation.
        if width < 500 {
            options["mobileEmulation"] = serde_json::json!({
                "deviceMetrics": { "width": width, "height": height, "pixelRatio": 1.0, "touch": true }
            });
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), options);
        let webdriver = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&webdriver)
                .await
            {
                Ok(client) => break client,
                Err(err) if started.elapsed() > TIMEOUT => {
                    return Err(err).context("cannot open a Chromium session");
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        Ok(Self {
            client,
            driver: Some(driver),
            profile,
        })
    }

    /// Opens `url` and waits until the web app has rendered its navigation.
    ///
    /// # Errors
    /// When the page does not render in time.
    pub async fn open(&self, url: &str) -> anyhow::Result<()> {
        let started = Instant::now();
        self.client.goto(url).await?;
        self.wait_for(".nav .brand").await?;
        eprintln!(
            "e2e: {url} rendered in {} ms",
            started.elapsed().as_millis()
        );
        Ok(())
    }

    /// Waits for an element matching `css`.
    ///
    /// # Errors
    /// When it does not appear within [`TIMEOUT`].
    pub async fn wait_for(&self, css: &str) -> anyhow::Result<fantoccini::elements::Element> {
        self.client
            .wait()
            .at_most(TIMEOUT)
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("{css} did not appear"))
    }

    /// Waits until an element matching `css` contains `text`.
    ///
    /// # Errors
    /// When it does not within [`TIMEOUT`].
    pub async fn wait_for_text(&self, css: &str, text: &str) -> anyhow::Result<()> {
        wait_until(format_args!("{css} containing {text:?}"), async || {
            Ok(match self.client.find(Locator::Css(css)).await {
                Ok(element) => element.text().await.is_ok_and(|t| t.contains(text)),
                Err(_) => false,
            })
        })
        .await
    }

    /// Waits until the path of the current URL is `path`.
    ///
    /// # Errors
    /// When it is not within [`TIMEOUT`].
    pub async fn wait_for_path(&self, path: &str) -> anyhow::Result<()> {
        wait_until(format_args!("the path {path}"), async || {
            Ok(self
                .client
                .current_url()
                .await
                .is_ok_and(|u| u.path() == path))
        })
        .await
    }

    /// Waits until the script `condition` (a function body) returns `true` on the page.
    ///
    /// # Errors
    /// When it does not within [`TIMEOUT`], naming `what` was awaited.
    pub async fn wait_for_script(
        &self,
        what: &str,
        condition: &str,
        args: Vec<serde_json::Value>,
    ) -> anyhow::Result<()> {
        wait_until(what, async || {
            let answer = self.client.execute(condition, args.clone()).await?;
            Ok(answer.as_bool() == Some(true))
        })
        .await
    }

    /// Replaces the value of the input `#id` with `text`.
    ///
    /// # Errors
    /// When the input is missing.
    pub async fn fill(&self, id: &str, text: &str) -> anyhow::Result<()> {
        let input = self.wait_for(&format!("#{id}")).await?;
        input.clear().await?;
        input.send_keys(text).await?;
        Ok(())
    }

    /// How many elements match `css` now (without waiting).
    ///
    /// # Errors
    /// When the browser does not answer.
    pub async fn count(&self, css: &str) -> anyhow::Result<usize> {
        Ok(self.client.find_all(Locator::Css(css)).await?.len())
    }

    /// Waits until the browser has saved the download `name` completely; returns its bytes.
    ///
    /// # Errors
    /// When it does not within [`TIMEOUT`].
    pub async fn downloaded(&self, name: &str) -> anyhow::Result<Vec<u8>> {
        let file = self.profile.path().join("downloads").join(name);
        wait_until(format_args!("the download {name}"), async || {
            // Chromium writes `name.crdownload` and renames it once complete.
            Ok(file.is_file())
        })
        .await?;
        Ok(std::fs::read(&file)?)
    }

    /// Gives the file input matching `css` the file at `path`, as picking it would.
    ///
    /// # Errors
    /// When the input is missing.
    pub async fn choose_file(&self, css: &str, path: &std::path::Path) -> anyhow::Result<()> {
        let input = self.wait_for(css).await?;
        input.send_keys(&path.display().to_string()).await?;
        Ok(())
    }

    /// Clicks the element matching `css`.
    ///
    /// # Errors
    /// When it is missing.
    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        self.wait_for(css).await?.click().await?;
        Ok(())
    }

    /// With `SHIFTING_E2E_SCREENSHOTS` set, saves a screenshot of the page as
    /// `target/e2e-artifacts/pages/{name}.png` (for looking at every page; failures save theirs
    /// anyway).
    pub async fn screenshot(&self, name: &str) {
        if std::env::var_os("SHIFTING_E2E_SCREENSHOTS").is_none() {
            return;
        }
        let dir = repo_root().join("target/e2e-artifacts/pages");
        if std::fs::create_dir_all(&dir).is_ok()
            && let Ok(png) = self.client.screenshot().await
        {
            let _ = std::fs::write(dir.join(format!("{name}.png")), png);
        }
    }

    /// Fills in and submits the sign-up form on the current page as `username` (password
    /// [`PASSWORD`]), and waits until the navigation shows the new user.
    ///
    /// # Errors
    /// When the form is missing or the sign-up does not go through.
    pub async fn submit_sign_up(&self, username: &str) -> anyhow::Result<()> {
        self.fill("username", username).await?;
        self.fill("email", &format!("{username}@example.com"))
            .await?;
        self.fill("password", PASSWORD).await?;
        self.click("form button[type=submit]").await?;
        self.wait_for_text("[data-testid=signed-in-as]", username)
            .await
    }

    /// A sandbox account's balance (minor units), read from `/sandbox/accounts`.
    ///
    /// # Errors
    /// When the page is not the JSON list or the account does not exist.
    pub async fn sandbox_balance(&self, server: &Server, name: &str) -> anyhow::Result<String> {
        self.sandbox_account(server, name, "balance").await
    }

    /// A sandbox account's sign-in password (play money: listed on `/sandbox/accounts`).
    ///
    /// # Errors
    /// When the page is not the JSON list or the account does not exist.
    pub async fn sandbox_password(&self, server: &Server, name: &str) -> anyhow::Result<String> {
        self.sandbox_account(server, name, "password").await
    }

    async fn sandbox_account(
        &self,
        server: &Server,
        name: &str,
        field: &str,
    ) -> anyhow::Result<String> {
        self.client
            .goto(&format!("{}/sandbox/accounts", server.url))
            .await?;
        let text = self.client.find(Locator::Css("body")).await?.text().await?;
        let accounts: serde_json::Value =
            serde_json::from_str(&text).context("the accounts are not JSON")?;
        accounts["accounts"]
            .as_array()
            .and_then(|all| all.iter().find(|a| a["name"] == name))
            .and_then(|a| a[field].as_str())
            .map(str::to_owned)
            .with_context(|| format!("no sandbox account {name}"))
    }

    /// Presses and releases `key` on the keyboard (sent to whatever has the focus).
    ///
    /// # Errors
    /// When the browser does not answer.
    pub async fn press(&self, key: Key) -> anyhow::Result<()> {
        let key = char::from(key);
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        self.client.perform_actions(keys).await?;
        Ok(())
    }

    /// Types `text` into the element that has the focus, without clicking it.
    ///
    /// # Errors
    /// When nothing can take the text.
    pub async fn type_text(&self, text: &str) -> anyhow::Result<()> {
        self.client.active_element().await?.send_keys(text).await?;
        Ok(())
    }

    /// Presses Tab until the focus is on an element matching `css` (at most 60 times), and
    /// checks that the focused element shows a focus ring (an outline or a box shadow).
    ///
    /// # Errors
    /// When Tab never reaches it, or it does not show that it has the focus.
    pub async fn tab_to(&self, css: &str) -> anyhow::Result<()> {
        const FOCUSED: &str = "const el = document.activeElement; \
            if (!el || !el.matches(arguments[0])) return null; \
            const style = getComputedStyle(el); \
            return (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) \
                || style.boxShadow !== 'none';";
        let mut visited = Vec::new();
        for _ in 0..60 {
            self.press(Key::Tab).await?;
            let found = self
                .client
                .execute(FOCUSED, vec![serde_json::json!(css)])
                .await?;
            match found.as_bool() {
                Some(true) => return Ok(()),
                Some(false) => bail!("{css} has the focus but shows no focus ring"),
                None => {
                    let here = self
                        .client
                        .execute(
                            "const el = document.activeElement; \
                             return el ? el.tagName + (el.id ? '#' + el.id : '') + ' ' + (el.textContent || '').trim().slice(0, 30) : '';",
                            Vec::new(),
                        )
                        .await?;
                    visited.push(here.as_str().unwrap_or_default().to_owned());
                }
            }
        }
        bail!("Tab never reached {css}; it went through {visited:?}")
    }

    /// Waits until the focus is on an element matching `css` (a part of the page that took it).
    ///
    /// # Errors
    /// When it is not there within [`TIMEOUT`].
    pub async fn expect_focus(&self, css: &str) -> anyhow::Result<()> {
        self.wait_for_script(
            &format!("the focus on {css}"),
            "return !!document.activeElement && document.activeElement.matches(arguments[0]);",
            vec![serde_json::json!(css)],
        )
        .await
    }

    /// Tabs to `css` and presses Enter on it: a keyboard user following a link or pressing a
    /// button.
    ///
    /// # Errors
    /// As [`Browser::tab_to`].
    pub async fn activate(&self, css: &str) -> anyhow::Result<()> {
        self.tab_to(css).await?;
        self.press(Key::Enter).await
    }

    /// Tabs to the field `#id` and types `text` into it.
    ///
    /// # Errors
    /// As [`Browser::tab_to`].
    pub async fn type_into(&self, id: &str, text: &str) -> anyhow::Result<()> {
        self.tab_to(&format!("#{id}")).await?;
        self.type_text(text).await
    }

    /// Checks the page with axe-core: fails on any serious or critical violation (WCAG 2.x A and
    /// AA rules and axe's best practices), naming the rule and the elements. `page` names the
    /// page in the message.
    ///
    /// # Errors
    /// When axe finds one, or cannot run.
    pub async fn check_accessibility(&self, page: &str) -> anyhow::Result<()> {
        const RUN: &str = "const done = arguments[arguments.length - 1]; \
            axe.run(document, { resultTypes: ['violations'] }).then(result => done( \
              result.violations \
                .filter(v => v.impact === 'serious' || v.impact === 'critical') \
                .map(v => `${v.impact} ${v.id} (${v.help}): ` + \
                  v.nodes.map(n => n.target.join(' ') + ' - ' + n.failureSummary).join('; ')))) \
            .catch(err => done([`axe failed: ${err}`]));";
        let loaded = self
            .client
            .execute("return typeof window.axe !== 'undefined';", Vec::new())
            .await?;
        if loaded.as_bool() != Some(true) {
            self.client.execute(axe_source()?, Vec::new()).await?;
        }
        let found = self.client.execute_async(RUN, Vec::new()).await?;
        let problems: Vec<String> = serde_json::from_value(found)?;
        if problems.is_empty() {
            Ok(())
        } else {
            bail!(
                "{page}: axe found {} serious or critical problems:\n{}",
                problems.len(),
                problems.join("\n")
            )
        }
    }

    /// Checks that the page does not scroll sideways (its content fits the viewport).
    ///
    /// # Errors
    /// When it does, naming the widths.
    pub async fn expect_no_horizontal_scroll(&self) -> anyhow::Result<()> {
        let widths = self
            .client
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth];",
                Vec::new(),
            )
            .await?;
        let (content, viewport) = (widths[0].as_f64(), widths[1].as_f64());
        match (content, viewport) {
            (Some(content), Some(viewport)) if content <= viewport => Ok(()),
            _ => {
                bail!("the page scrolls sideways: content {content:?} px, viewport {viewport:?} px")
            }
        }
    }

    /// The path of the current URL.
    ///
    /// # Errors
    /// When the browser does not answer.
    pub async fn path(&self) -> anyhow::Result<String> {
        Ok(self.client.current_url().await?.path().to_owned())
    }

    /// Saves a screenshot and the page HTML as `target/e2e-artifacts/{name}.{png,html}`.
    pub async fn save_artifacts(&self, name: &str) {
        let dir = repo_root().join("target/e2e-artifacts");
        if std::fs::create_dir_all(&dir).is_err() {
            return;
        }
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(dir.join(format!("{name}.png")), png);
        }
        if let Ok(html) = self.client.source().await {
            let _ = std::fs::write(dir.join(format!("{name}.html")), html);
        }
        eprintln!(
            "e2e: artifacts saved in {}/{name}.{{png,html}}",
            dir.display()
        );
    }

    /// Ends the session and ChromeDriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        self.kill_driver();
    }

    /// Kills ChromeDriver's process group (Chromium included), once. The group id is the
    /// driver's pid, since it was started as a group leader. `killpg` is called directly:
    /// spawning `kill -KILL -<pgid>` signalled every process with procps-ng 4.0.2's `kill`.
    fn kill_driver(&mut self) {
        let Some(mut driver) = self.driver.take() else {
            return;
        };
        #[cfg(unix)]
        if let Ok(pgid) = i32::try_from(driver.id())
            && pgid > 1
        {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pgid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = driver.kill();
        let _ = driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.kill_driver();
    }
}

/// Checks `condition` every 50 ms until it holds; fails after [`TIMEOUT`], saying what was
/// awaited. Every wait of the suite is for a condition, through here.
async fn wait_until(
    what: impl std::fmt::Display,
    mut condition: impl AsyncFnMut() -> anyhow::Result<bool>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        if condition().await? {
            return Ok(());
        }
        if started.elapsed() > TIMEOUT {
            bail!("waited {} s for {what}", TIMEOUT.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// axe-core's browser script, installed by `scripts/install-test-tools.sh`.
fn axe_source() -> anyhow::Result<&'static str> {
    static AXE: OnceLock<String> = OnceLock::new();
    if let Some(source) = AXE.get() {
        return Ok(source);
    }
    let path = repo_root().join("e2e/axe/node_modules/axe-core/axe.min.js");
    let source = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {} (install it with scripts/install-test-tools.sh)",
            path.display()
        )
    })?;
    Ok(AXE.get_or_init(|| source))
}

/// Runs a scenario against a fresh server and browser; on failure saves artifacts and panics
/// with the error chain.
pub async fn run_scenario<F>(name: &str, width: u32, height: u32, scenario: F)
where
    F: AsyncFnOnce(&Server, &Browser) -> anyhow::Result<()>,
{
    run_scenario_with(name, width, height, |_| {}, scenario).await;
}

/// Like [`run_scenario`], with the server's settings adjusted by `customize`.
pub async fn run_scenario_with<F>(
    name: &str,
    width: u32,
    height: u32,
    customize: impl FnOnce(&mut RawSettings),
    scenario: F,
) where
    F: AsyncFnOnce(&Server, &Browser) -> anyhow::Result<()>,
{
    run(name, (width, height, "en-US"), customize, scenario).await;
}

/// Like [`run_scenario`], in a browser whose preferred language is `language` (`es-ES` …).
pub async fn run_scenario_in<F>(name: &str, width: u32, height: u32, language: &str, scenario: F)
where
    F: AsyncFnOnce(&Server, &Browser) -> anyhow::Result<()>,
{
    run(name, (width, height, language), |_| {}, scenario).await;
}

async fn run<F>(
    name: &str,
    (width, height, language): (u32, u32, &str),
    customize: impl FnOnce(&mut RawSettings),
    scenario: F,
) where
    F: AsyncFnOnce(&Server, &Browser) -> anyhow::Result<()>,
{
    let started = Instant::now();
    let server = Server::start_with(customize)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:#}"));
    let browser = Browser::start_in(width, height, language)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:#}"));
    let outcome = scenario(&server, &browser).await;
    if let Err(err) = &outcome {
        browser.save_artifacts(name).await;
        browser.close().await;
        panic!("{name}: {err:#}");
    }
    browser.close().await;
    eprintln!(
        "e2e: {name} passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
