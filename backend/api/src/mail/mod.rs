//! Mail (ARCHITECTURE §8): what to tell people, queued as facts in the outbox with the change
//! that causes it, composed at delivery in the recipient's language (reading the records
//! then, so a mail never says more than the records do), and delivered over SMTP — or, in
//! sandbox mode without an SMTP server, into the local mailbox at `/sandbox/mail`.
//!
//! Links that act on an account (verify, reset, change of address) carry tokens made when the
//! mail is delivered: the outbox holds ids only, never a secret.

mod compose;
mod letter;
pub mod mailbox;
mod transport;
pub mod unsubscribe;
mod words;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::{Deserialize, Serialize};
use shifting_open_payments::Clock;
use shifting_shared::TransactionStatus;
use url::Url;
use uuid::Uuid;

pub use transport::Transport;
pub use unsubscribe::UnsubscribeKey;

use crate::entities::outbox as outbox_rows;
use crate::error::Result;
use crate::outbox::{self, Attempted, Channel, Deliver, Delivery};

/// A mail to send, as queued: what happened, by ids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MailJob {
    /// "Confirm your address", to a new account's address.
    VerifyEmail {
        /// The account.
        user_id: Uuid,
    },
    /// "Confirm your new address", to the address the account asked to move to.
    ConfirmNewEmail {
        /// The account.
        user_id: Uuid,
        /// The address to confirm.
        new_email: String,
    },
    /// "Your address was changed", to the address the account left.
    EmailChanged {
        /// The account.
        user_id: Uuid,
        /// The address it left (where this goes).
        old_email: String,
    },
    /// "Reset your password", to the account with this address if there is one (looked up
    /// when the mail is composed, so that asking costs the same whether or not there is).
    PasswordReset {
        /// The address asked about.
        email: String,
    },
    /// "Your password was changed".
    PasswordChanged {
        /// The account.
        user_id: Uuid,
    },
    /// The buyer's receipt (an account's, or the address a guest left).
    Receipt {
        /// The completed purchase.
        transaction_id: Uuid,
    },
    /// The seller's "you sold …".
    Sold {
        /// The completed sale.
        transaction_id: Uuid,
    },
    /// A purchase that ended without money and needs the buyer again.
    PaymentProblem {
        /// The purchase.
        transaction_id: Uuid,
    },
    /// A conversation message its reader has not read a while after it was written.
    UnreadMessage {
        /// The message.
        message_id: i64,
    },
    /// Shifting turned off a webhook endpoint (failing for 5 days, or 410 Gone): to its owner.
    WebhookTurnedOff {
        /// The endpoint.
        endpoint_id: Uuid,
    },
}

impl MailJob {
    /// The dedupe key: one mail per fact (a payment's mails), or one per request (the rest).
    fn dedupe_key(&self) -> String {
        match self {
            Self::Receipt { transaction_id } => format!("mail:receipt:{transaction_id}"),
            Self::Sold { transaction_id } => format!("mail:sold:{transaction_id}"),
            Self::PaymentProblem { transaction_id } => format!("mail:problem:{transaction_id}"),
            Self::UnreadMessage { message_id } => format!("mail:unread:{message_id}"),
            Self::WebhookTurnedOff { endpoint_id } => {
                format!("mail:webhook-off:{endpoint_id}:{}", Uuid::new_v4())
            }
            Self::VerifyEmail { .. } => format!("mail:verify:{}", Uuid::new_v4()),
            Self::ConfirmNewEmail { .. } => format!("mail:new-email:{}", Uuid::new_v4()),
            Self::EmailChanged { .. } => format!("mail:email-changed:{}", Uuid::new_v4()),
            Self::PasswordReset { .. } => format!("mail:reset:{}", Uuid::new_v4()),
            Self::PasswordChanged { .. } => format!("mail:password-changed:{}", Uuid::new_v4()),
        }
    }

    /// The account it is about, for erasure.
    fn user_id(&self) -> Option<Uuid> {
        match self {
            Self::VerifyEmail { user_id }
            | Self::ConfirmNewEmail { user_id, .. }
            | Self::EmailChanged { user_id, .. }
            | Self::PasswordChanged { user_id } => Some(*user_id),
            Self::PasswordReset { .. }
            | Self::Receipt { .. }
            | Self::Sold { .. }
            | Self::PaymentProblem { .. }
            | Self::UnreadMessage { .. }
            | Self::WebhookTurnedOff { .. } => None,
        }
    }
}

/// Queues `job` in `db` (the caller's transaction). A payment's mail is queued once however
/// often its step is replayed.
///
/// # Errors
/// Database errors.
pub async fn queue(db: &impl ConnectionTrait, job: &MailJob, now: DateTime<Utc>) -> Result<()> {
    outbox::enqueue(db, Channel::Mail, job.dedupe_key(), job.user_id(), job, now).await?;
    Ok(())
}

/// How long a message may stay unread before its reader gets a mail about it.
pub const UNREAD_AFTER: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// Queues the mail about message `message_id`, due [`UNREAD_AFTER`] from `now`; it goes only
/// if the message is still unread then (and is the latest of its writer's).
///
/// # Errors
/// Database errors.
pub async fn message_written(
    db: &impl ConnectionTrait,
    message_id: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    let job = MailJob::UnreadMessage { message_id };
    outbox::enqueue_at(
        db,
        Channel::Mail,
        job.dedupe_key(),
        job.user_id(),
        &job,
        now,
        now + crate::clock::chrono_duration(UNREAD_AFTER),
    )
    .await?;
    Ok(())
}

/// The mail a payment's new status calls for, queued with the status change: the receipt and
/// the seller's notice on completion, the buyer's notice when it ended without money. Whether
/// each person wants it is decided at delivery.
///
/// # Errors
/// Database errors.
pub async fn payment_status(
    db: &impl ConnectionTrait,
    transaction_id: Uuid,
    status: TransactionStatus,
    now: DateTime<Utc>,
) -> Result<()> {
    use TransactionStatus::{Completed, Expired, Failed, Rejected};
    match status {
        Completed => {
            queue(db, &MailJob::Receipt { transaction_id }, now).await?;
            queue(db, &MailJob::Sold { transaction_id }, now).await
        }
        Failed | Expired | Rejected => {
            queue(db, &MailJob::PaymentProblem { transaction_id }, now).await
        }
        _ => Ok(()),
    }
}

/// Delivers the outbox's mail: composes each and hands it to the transport.
#[derive(Clone, Debug)]
pub struct Mailer {
    db: DatabaseConnection,
    clock: Clock,
    public_url: Url,
    from: lettre::message::Mailbox,
    transport: Transport,
    unsubscribe: UnsubscribeKey,
}

impl Mailer {
    /// A mailer writing links to `public_url`, from `from`, through `transport`.
    #[must_use]
    pub fn new(
        db: DatabaseConnection,
        clock: Clock,
        public_url: Url,
        from: lettre::message::Mailbox,
        transport: Transport,
        unsubscribe: UnsubscribeKey,
    ) -> Self {
        Self {
            db,
            clock,
            public_url,
            from,
            transport,
            unsubscribe,
        }
    }

    /// The default sender: `Shifting <no-reply@HOST>` with the public URL's host name (or
    /// `localhost` when it is an address).
    #[must_use]
    pub fn default_from(public_url: &Url) -> lettre::message::Mailbox {
        let host = match public_url.host() {
            Some(url::Host::Domain(domain)) if domain.contains('.') => domain.to_owned(),
            _ => "localhost".to_owned(),
        };
        format!("Shifting <no-reply@{host}>")
            .parse()
            .unwrap_or_else(|_| {
                lettre::message::Mailbox::new(
                    Some("Shifting".into()),
                    lettre::Address::new("no-reply", "localhost")
                        .unwrap_or_else(|_| unreachable!("a fixed valid address")),
                )
            })
    }
}

impl Deliver for Mailer {
    fn channel(&self) -> Channel {
        Channel::Mail
    }

    async fn deliver(&self, row: &outbox_rows::Model) -> Attempted {
        self.send(row).await.into()
    }
}

impl Mailer {
    /// Composes and sends one queued mail.
    async fn send(&self, row: &outbox_rows::Model) -> Delivery {
        let job: MailJob = match serde_json::from_str(&row.payload) {
            Ok(job) => job,
            Err(err) => return Delivery::Permanent(format!("unreadable mail job: {err}")),
        };
        let letter = match compose::compose(self, row, &job).await {
            Ok(compose::Composed::Letter(letter)) => letter,
            Ok(compose::Composed::Nothing(why)) => return Delivery::Dropped(why.to_owned()),
            Err(err) => return Delivery::Retry(format!("cannot compose: {err:#}")),
        };
        let message = match transport::message(&letter, &self.from, row.id) {
            Ok(message) => message,
            Err(err) => return Delivery::Permanent(format!("cannot build the message: {err}")),
        };
        self.transport
            .send(&self.db, row.id, &letter, message, self.clock.now())
            .await
    }
}
