//! Turning a composed mail into an RFC 5322 message and handing it over: to an SMTP server
//! (lettre, rustls), or to the local mailbox table in sandbox mode.

use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment as MailAttachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};
use secrecy::ExposeSecret;
use uuid::Uuid;

use super::letter::Letter;
use super::words::words;
use crate::config::{SmtpSecurity, SmtpSettings};
use crate::entities::sandbox_mail;
use crate::outbox::Delivery;

/// How long one SMTP dialogue may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Where mail is handed over.
#[derive(Clone)]
pub enum Transport {
    /// An SMTP server.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// The local mailbox (`sandbox_mail`), shown at `/sandbox/mail`.
    Mailbox,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Smtp(_) => "Transport::Smtp",
            Self::Mailbox => "Transport::Mailbox",
        })
    }
}

impl Transport {
    /// The SMTP transport `settings` describe.
    ///
    /// # Errors
    /// An unusable URL or CA file (the URL's password never appears in the message).
    pub fn smtp(settings: &SmtpSettings) -> anyhow::Result<Self> {
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::from_url(settings.url.expose_secret().trim())
                .map_err(|_| anyhow::anyhow!("smtp_url cannot be used"))?;
        if let Some(file) = &settings.ca_file {
            let pem = std::fs::read(file).map_err(|err| {
                anyhow::anyhow!("cannot read smtp_ca_file {}: {err}", file.display())
            })?;
            let certificate = Certificate::from_pem(&pem)
                .map_err(|err| anyhow::anyhow!("smtp_ca_file is not a PEM certificate: {err}"))?;
            let parameters = TlsParameters::builder(settings.host.clone())
                .add_root_certificate(certificate)
                .build_rustls()
                .map_err(|err| anyhow::anyhow!("cannot set up TLS for SMTP: {err}"))?;
            builder = builder.tls(match settings.security {
                SmtpSecurity::Wrapper => Tls::Wrapper(parameters),
                SmtpSecurity::StartTls => Tls::Required(parameters),
                SmtpSecurity::Plain => Tls::None,
            });
        }
        Ok(Self::Smtp(builder.timeout(Some(SMTP_TIMEOUT)).build()))
    }

    /// Hands `message` over. A permanent SMTP refusal (5xx) is not retried.
    pub(super) async fn send(
        &self,
        db: &DatabaseConnection,
        outbox_id: Uuid,
        letter: &Letter,
        message: Message,
        now: DateTime<Utc>,
    ) -> Delivery {
        match self {
            Self::Smtp(smtp) => match smtp.send(message).await {
                Ok(_) => Delivery::Sent,
                Err(err) if err.is_permanent() => Delivery::Permanent(err.to_string()),
                Err(err) => Delivery::Retry(err.to_string()),
            },
            Self::Mailbox => {
                let raw = String::from_utf8_lossy(&message.formatted()).into_owned();
                let stored = sandbox_mail::Entity::insert(sandbox_mail::ActiveModel {
                    outbox_id: Set(outbox_id),
                    recipient: Set(letter.to.clone()),
                    subject: Set(letter.subject.clone()),
                    raw: Set(raw),
                    created_at: Set(now),
                    ..Default::default()
                })
                .on_conflict(
                    OnConflict::column(sandbox_mail::Column::OutboxId)
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(db)
                .await;
                match stored {
                    Ok(_) => Delivery::Sent,
                    Err(err) => {
                        Delivery::Retry(format!("cannot store in the local mailbox: {err}"))
                    }
                }
            }
        }
    }
}

/// The message: `multipart/alternative` (text, then HTML), inside `multipart/mixed` with the
/// attachment when there is one; a `Message-ID` made from the outbox row, so a repeated
/// delivery is recognisable; one-click unsubscribe headers (RFC 8058) for optional notices.
///
/// # Errors
/// A recipient that is not a usable address.
pub(super) fn message(letter: &Letter, from: &Mailbox, outbox_id: Uuid) -> anyhow::Result<Message> {
    let address = letter
        .to
        .parse()
        .map_err(|err| anyhow::anyhow!("the recipient is not an address: {err}"))?;
    let to = Mailbox::new(letter.to_name.clone(), address);
    let domain = from.email.domain().to_owned();
    let w = words(letter.language);
    let alternative = MultiPart::alternative()
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(letter.text()),
        )
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_HTML)
                .body(letter.html(w.link_fallback)),
        );
    let body = match &letter.attachment {
        None => alternative,
        Some(file) => MultiPart::mixed().multipart(alternative).singlepart(
            MailAttachment::new(file.name.clone()).body(
                file.bytes.clone(),
                ContentType::parse(file.content_type)
                    .map_err(|err| anyhow::anyhow!("bad attachment type: {err}"))?,
            ),
        ),
    };
    let mut message = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(letter.subject.clone())
        .message_id(Some(format!("<{}@{domain}>", outbox_id.simple())))
        .multipart(body)?;
    let headers = message.headers_mut();
    headers.insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str("Content-Language"),
        letter.language.as_str().to_owned(),
    ));
    // Tells mail programs not to send vacation replies to a notice.
    headers.insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str("Auto-Submitted"),
        "auto-generated".to_owned(),
    ));
    if let Some(unsubscribe) = &letter.unsubscribe {
        headers.insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe"),
            format!("<{}>", unsubscribe.one_click),
        ));
        headers.insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
            "List-Unsubscribe=One-Click".to_owned(),
        ));
    }
    Ok(message)
}
