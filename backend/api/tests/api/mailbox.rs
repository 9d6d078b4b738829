//! Reading mail the product sent: from the local mailbox (`sandbox_mail`, sandbox mode without
//! SMTP) or from the Maildir of a real SMTP server (aiosmtpd, started here on a free port).

use std::path::{Path, PathBuf};

use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::processes::{Process, free_port};

/// A received mail, parsed.
#[derive(Clone, Debug)]
pub struct Mail {
    pub headers: Vec<(String, String)>,
    /// The content types of the leaf parts, in order.
    pub parts: Vec<String>,
    pub text: String,
    pub html: String,
    /// Attachment names with their sizes.
    pub attachments: Vec<(String, usize)>,
}

impl Mail {
    pub fn parse(raw: &str) -> Self {
        let parsed = mailparse::parse_mail(raw.as_bytes()).expect("a mail");
        let mut mail = Mail {
            headers: parsed
                .headers
                .iter()
                .map(|h| (h.get_key(), h.get_value()))
                .collect(),
            parts: Vec::new(),
            text: String::new(),
            html: String::new(),
            attachments: Vec::new(),
        };
        collect(&parsed, &mut mail);
        mail
    }

    /// A header's value (the first of that name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn subject(&self) -> &str {
        self.header("Subject").unwrap_or_default()
    }

    /// The token of the first link to `path` (`/reset-password`) in the text part, which must
    /// be the same in the HTML part.
    pub fn token_for(&self, path: &str) -> String {
        let marker = format!("{path}#token=");
        let start = self
            .text
            .find(&marker)
            .unwrap_or_else(|| panic!("no {path} link in {}", self.text))
            + marker.len();
        let token: String = self.text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        assert!(
            self.html.contains(&format!("{marker}{token}")),
            "the HTML part has another link: {}",
            self.html
        );
        token
    }
}

fn collect(part: &mailparse::ParsedMail<'_>, mail: &mut Mail) {
    if !part.subparts.is_empty() {
        for sub in &part.subparts {
            collect(sub, mail);
        }
        return;
    }
    mail.parts.push(part.ctype.mimetype.clone());
    if let Some(name) = part.get_content_disposition().params.get("filename") {
        let size = part.get_body_raw().map(|b| b.len()).unwrap_or_default();
        mail.attachments.push((name.clone(), size));
        return;
    }
    match part.ctype.mimetype.as_str() {
        "text/plain" => mail.text = part.get_body().expect("text"),
        "text/html" => mail.html = part.get_body().expect("html"),
        _ => {}
    }
}

impl TestApp {
    /// The mail in the local mailbox to `to`, oldest first.
    pub async fn mails_to(&self, to: &str) -> Vec<Mail> {
        let backend = self.db.get_database_backend();
        let sql = match backend {
            sea_orm::DatabaseBackend::Postgres => {
                "SELECT raw FROM sandbox_mail WHERE recipient = $1 ORDER BY id"
            }
            _ => "SELECT raw FROM sandbox_mail WHERE recipient = ? ORDER BY id",
        };
        self.db
            .query_all_raw(Statement::from_sql_and_values(backend, sql, [to.into()]))
            .await
            .expect("mailbox")
            .into_iter()
            .map(|row| Mail::parse(&row.try_get::<String>("", "raw").expect("raw")))
            .collect()
    }

    /// Waits until the local mailbox holds `n` mails to `to` (bounded by attempts), and
    /// returns them.
    pub async fn wait_for_mails(&self, to: &str, n: usize) -> Vec<Mail> {
        for _ in 0..500 {
            let mails = self.mails_to(to).await;
            if mails.len() >= n {
                return mails;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("{to} never got {n} mails: {:#?}", self.mails_to(to).await);
    }

    /// The `n`th (from 1) mail to `to`, once it is there.
    pub async fn mail(&self, to: &str, n: usize) -> Mail {
        self.wait_for_mails(to, n).await.swap_remove(n - 1)
    }

    /// Waits until no outbox row is pending (every queued mail delivered or given up).
    pub async fn outbox_settled(&self) {
        for _ in 0..500 {
            if self
                .count("SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'")
                .await
                == 0
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("the outbox never settled");
    }

    /// Confirms `email` through the link mailed at sign-up.
    pub async fn confirm_email(&self, email: &str) {
        let token = self.mail(email, 1).await.token_for("/verify-email");
        let response = self
            .post_json("/api/auth/verify-email", &json!({ "token": token }))
            .await;
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["email"], email);
    }
}

/// A real SMTP server (aiosmtpd from PyPI, installed by `scripts/install-test-tools.sh`)
/// keeping what it receives in a Maildir.
pub struct SmtpServer {
    pub port: u16,
    pub maildir: PathBuf,
    _process: Option<Process>,
    _dir: tempfile::TempDir,
}

fn aiosmtpd() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/smtp-venv/bin/python")
}

impl SmtpServer {
    /// A port with nothing listening yet, and where the server will keep mail once started.
    pub fn down() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        Self {
            port: free_port(),
            maildir: dir.path().join("maildir"),
            _process: None,
            _dir: dir,
        }
    }

    /// A server listening on a free port.
    pub async fn start() -> Self {
        let mut server = Self::down();
        server.up().await;
        server
    }

    /// Starts the server on its port.
    pub async fn up(&mut self) {
        let python = aiosmtpd();
        assert!(
            python.exists(),
            "aiosmtpd is missing: run scripts/install-test-tools.sh"
        );
        let listen = format!("127.0.0.1:{}", self.port);
        let child = std::process::Command::new(python)
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &listen,
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(&self.maildir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let process = Process::from_child(child);
        for _ in 0..500 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                self._process = Some(process);
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("aiosmtpd never listened on {listen}");
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every mail received so far.
    pub fn received(&self) -> Vec<Mail> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else {
            return Vec::new();
        };
        let mut mails: Vec<Mail> = entries
            .map(|entry| {
                let bytes = std::fs::read(entry.expect("entry").path()).expect("mail file");
                Mail::parse(&String::from_utf8_lossy(&bytes))
            })
            .collect();
        mails.sort_by(|a, b| a.header("Date").cmp(&b.header("Date")));
        mails
    }

    /// Waits until the server holds `n` mails (bounded by attempts).
    pub async fn wait_for(&self, n: usize) -> Vec<Mail> {
        for _ in 0..500 {
            let mails = self.received();
            if mails.len() >= n {
                return mails;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!(
            "the SMTP server never got {n} mails: it has {}",
            self.received().len()
        );
    }
}
