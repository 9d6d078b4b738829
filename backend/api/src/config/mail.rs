//! Where mail goes: an SMTP server, or (in sandbox mode, when none is set) the local mailbox
//! at `/sandbox/mail`.

use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use super::Problems;

/// The mail settings as read.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Raw {
    /// `SHIFTING_SMTP_URL`: the server mail is submitted to: `smtps://user:pass@host:465`
    /// (TLS from the start) or `smtp://user:pass@host:587?tls=required` (STARTTLS); plain
    /// `smtp://host:port` only on this machine. Unset: the local mailbox (sandbox mode only).
    pub smtp_url: Option<SecretString>,
    /// `SHIFTING_SMTP_CA_FILE`: a PEM certificate to trust for the SMTP server besides the
    /// public roots (a relay with a private CA).
    pub smtp_ca_file: Option<PathBuf>,
    /// `SHIFTING_MAIL_FROM`: the sender, `Name <address>`; default: `Shifting
    /// <no-reply@HOST>` with the public URL's host.
    pub mail_from: Option<String>,
}

/// How the SMTP connection is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// TLS from the first byte (`smtps://`).
    Wrapper,
    /// STARTTLS, required (`smtp://…?tls=required`).
    StartTls,
    /// None: a server on this machine only.
    Plain,
}

/// A checked SMTP server.
#[derive(Clone, Debug)]
pub struct SmtpSettings {
    /// The URL as given (it may hold a password).
    pub url: SecretString,
    /// How the connection is secured.
    pub security: SmtpSecurity,
    /// The host (the name its certificate must have).
    pub host: String,
    /// An extra certificate to trust.
    pub ca_file: Option<PathBuf>,
}

/// The validated mail settings.
#[derive(Clone, Debug, Default)]
pub struct MailSettings {
    /// The SMTP server; `None`: the local mailbox.
    pub smtp: Option<SmtpSettings>,
    /// The sender, when set.
    pub from: Option<lettre::message::Mailbox>,
}

impl Raw {
    pub(super) fn validate(self, problems: &mut Problems) -> MailSettings {
        let from = self
            .mail_from
            .filter(|from| !from.trim().is_empty())
            .and_then(
                |from| match from.trim().parse::<lettre::message::Mailbox>() {
                    Ok(mailbox) => Some(mailbox),
                    Err(_) => {
                        problems
                            .push("mail_from must be an address, optionally as `Name <address>`");
                        None
                    }
                },
            );
        let smtp = self
            .smtp_url
            .filter(|url| !url.expose_secret().trim().is_empty())
            .and_then(|url| match smtp(&url) {
                Ok((security, host)) => Some(SmtpSettings {
                    url,
                    security,
                    host,
                    ca_file: self.smtp_ca_file.clone(),
                }),
                Err(problem) => {
                    problems.push(problem);
                    None
                }
            });
        if let Some(file) = &self.smtp_ca_file {
            if smtp.is_none() {
                problems.push("smtp_ca_file needs smtp_url");
            } else if !file.is_file() {
                problems.push(format!("smtp_ca_file {} does not exist", file.display()));
            }
        }
        MailSettings { smtp, from }
    }
}

/// Reads an SMTP URL: how it is secured and its host. The password never appears in a problem.
fn smtp(url: &SecretString) -> Result<(SmtpSecurity, String), String> {
    let parsed = Url::parse(url.expose_secret().trim())
        .map_err(|_| "smtp_url is not a URL (smtps://user:pass@host:465)".to_owned())?;
    let host = parsed
        .host_str()
        .filter(|host| !host.is_empty())
        .ok_or_else(|| "smtp_url has no host".to_owned())?
        .to_owned();
    let tls = parsed
        .query_pairs()
        .find(|(key, _)| key == "tls")
        .map(|(_, value)| value.into_owned());
    let local = matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]");
    match (parsed.scheme(), tls.as_deref()) {
        ("smtps", None) => Ok((SmtpSecurity::Wrapper, host)),
        ("smtp", Some("required")) => Ok((SmtpSecurity::StartTls, host)),
        ("smtp", None) if local => Ok((SmtpSecurity::Plain, host)),
        ("smtp", None) => Err(
            "smtp_url must use TLS (smtps://… or smtp://…?tls=required); plain smtp:// only on this machine"
                .to_owned(),
        ),
        _ => Err("smtp_url must be smtps://… or smtp://…?tls=required".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str) -> Result<(SmtpSecurity, String), String> {
        smtp(&SecretString::from(url))
    }

    #[test]
    fn smtp_urls_must_use_tls_except_on_this_machine() {
        assert_eq!(
            check("smtps://u:p@mail.example.com:465").unwrap(),
            (SmtpSecurity::Wrapper, "mail.example.com".into())
        );
        assert_eq!(
            check("smtp://u:p@mail.example.com:587?tls=required")
                .unwrap()
                .0,
            SmtpSecurity::StartTls
        );
        assert_eq!(
            check("smtp://127.0.0.1:2525").unwrap().0,
            SmtpSecurity::Plain
        );
        assert!(check("smtp://u:secret@mail.example.com:25").is_err());
        assert!(check("smtp://mail.example.com?tls=opportunistic").is_err());
        assert!(check("http://mail.example.com").is_err());
        let problem = check("smtp://u:hunter2@mail.example.com").unwrap_err();
        assert!(!problem.contains("hunter2"), "{problem}");
    }

    #[test]
    fn the_sender_must_be_an_address() {
        let mut problems = Problems::default();
        let settings = Raw {
            mail_from: Some("Shifting <hello@shifting.example>".into()),
            ..Raw::default()
        }
        .validate(&mut problems);
        assert!(problems.0.is_empty());
        assert_eq!(
            settings.from.unwrap().email.to_string(),
            "hello@shifting.example"
        );
        Raw {
            mail_from: Some("not an address".into()),
            ..Raw::default()
        }
        .validate(&mut problems);
        assert_eq!(problems.0.len(), 1, "{:?}", problems.0);
    }
}
