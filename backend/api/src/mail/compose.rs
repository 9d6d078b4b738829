//! Composing a queued mail: reading the records it is about, now, and writing it in the
//! recipient's language. A mail whose reason is gone (a deleted account, a notice turned off,
//! an address not confirmed) is not written.

use base64::Engine;
use chrono::{DateTime, Utc};
use sea_orm::EntityTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter};
use shifting_shared::webhooks::DisabledReason;
use shifting_shared::{Language, Notice, TransactionStatus};
use uuid::Uuid;

use super::letter::{Attachment, Block, Letter, Unsubscribe};
use super::words::{Words, fill, words};
use super::{MailJob, Mailer};
use crate::entities::{
    conversations, messages, outbox, rooms, transactions, users, webhook_endpoints,
};
use crate::error::Result;
use crate::services::recovery::{self, Purpose};
use crate::services::tokens::sha256_hex;
use crate::services::transactions::{Viewer, transaction_response};

/// What composing came to.
pub(super) enum Composed {
    /// A mail to send.
    Letter(Box<Letter>),
    /// Nothing to send, and why.
    Nothing(&'static str),
}

use Composed::Nothing;

fn letter(letter: Letter) -> Result<Composed> {
    Ok(Composed::Letter(Box::new(letter)))
}

pub(super) async fn compose(
    mailer: &Mailer,
    row: &outbox::Model,
    job: &MailJob,
) -> Result<Composed> {
    match job {
        MailJob::VerifyEmail { user_id } => {
            let Some(user) = account(mailer, *user_id).await? else {
                return Ok(Nothing(DELETED));
            };
            if user.email_verified_at.is_some() {
                return Ok(Nothing("the address is confirmed already"));
            }
            let w = words(language_of(&user));
            let mail = LinkMail {
                purpose: Purpose::VerifyEmail,
                new_email: None,
                to: &user.email,
                path: "/verify-email",
                subject: w.verify_subject,
                body: w.verify_body.into(),
                button: w.verify_button,
                note: w.verify_note,
            };
            link_mail(mailer, row, &user, mail).await
        }
        MailJob::ConfirmNewEmail { user_id, new_email } => {
            let Some(user) = account(mailer, *user_id).await? else {
                return Ok(Nothing(DELETED));
            };
            let w = words(language_of(&user));
            let mail = LinkMail {
                purpose: Purpose::ChangeEmail,
                new_email: Some(new_email),
                to: new_email,
                path: "/verify-email",
                subject: w.new_email_subject,
                body: fill(w.new_email_body, &[("old", &user.email)]),
                button: w.new_email_button,
                note: w.new_email_note,
            };
            link_mail(mailer, row, &user, mail).await
        }
        MailJob::PasswordReset { email } => {
            let Some(user) = users::Entity::find()
                .filter(users::Column::Email.eq(email.as_str()))
                .filter(users::Column::DeletedAt.is_null())
                .one(&mailer.db)
                .await?
            else {
                return Ok(Nothing("no account has this address"));
            };
            let w = words(language_of(&user));
            let mail = LinkMail {
                purpose: Purpose::ResetPassword,
                new_email: None,
                to: &user.email,
                path: "/reset-password",
                subject: w.reset_subject,
                body: w.reset_body.into(),
                button: w.reset_button,
                note: w.reset_note,
            };
            link_mail(mailer, row, &user, mail).await
        }
        MailJob::EmailChanged { user_id, old_email } => {
            let Some(user) = account(mailer, *user_id).await? else {
                return Ok(Nothing(DELETED));
            };
            let w = words(language_of(&user));
            let body = fill(w.email_changed_body, &[("new", &user.email)]);
            security_notice(mailer, &user, old_email, w.email_changed_subject, body)
        }
        MailJob::PasswordChanged { user_id } => {
            let Some(user) = account(mailer, *user_id).await? else {
                return Ok(Nothing(DELETED));
            };
            let w = words(language_of(&user));
            let body = w.password_changed_body.to_owned();
            security_notice(mailer, &user, &user.email, w.password_changed_subject, body)
        }
        MailJob::Receipt { transaction_id } => receipt(mailer, *transaction_id).await,
        MailJob::Sold { transaction_id } => sold(mailer, *transaction_id).await,
        MailJob::PaymentProblem { transaction_id } => problem(mailer, *transaction_id).await,
        MailJob::UnreadMessage { message_id } => unread(mailer, *message_id).await,
        MailJob::WebhookTurnedOff { endpoint_id } => webhook_off(mailer, *endpoint_id).await,
    }
}

/// A mail to an account whose button is a single-use link, made now.
struct LinkMail<'a> {
    purpose: Purpose,
    new_email: Option<&'a str>,
    to: &'a str,
    path: &'static str,
    subject: &'static str,
    body: String,
    button: &'static str,
    note: &'static str,
}

async fn link_mail(
    mailer: &Mailer,
    row: &outbox::Model,
    user: &users::Model,
    mail: LinkMail<'_>,
) -> Result<Composed> {
    let token = recovery::issue(
        &mailer.db,
        user.id,
        mail.purpose,
        mail.new_email.map(str::to_owned),
        row.id,
        mailer.clock.now(),
    )
    .await?;
    let w = words(language_of(user));
    letter(Letter {
        blocks: vec![
            greeting(w, &user.username),
            Block::Text(mail.body),
            Block::Button {
                label: mail.button.into(),
                url: mailer.link(&format!("{}#token={token}", mail.path)),
            },
            Block::Text(mail.note.into()),
        ],
        ..account_letter(user, mail.to, mail.subject.into())
    })
}

/// A change to the account told to `to`, with the way out if it was not its owner.
fn security_notice(
    mailer: &Mailer,
    user: &users::Model,
    to: &str,
    subject: &str,
    body: String,
) -> Result<Composed> {
    let w = words(language_of(user));
    letter(Letter {
        blocks: vec![
            greeting(w, &user.username),
            Block::Text(body),
            Block::Text(w.not_you_reset.into()),
            Block::Button {
                label: w.reset_button_short.into(),
                url: mailer.link("/forgot-password"),
            },
        ],
        ..account_letter(user, to, subject.into())
    })
}

const DELETED: &str = "the account was deleted";
const UNCONFIRMED: &str = "the address is not confirmed";

/// The buyer's receipt, with the PDF attached.
async fn receipt(mailer: &Mailer, id: Uuid) -> Result<Composed> {
    let Some(row) = completed(mailer, id).await? else {
        return Ok(Nothing("the payment is not completed"));
    };
    let (to, name, language, viewer, link, reason) = match row.buyer_id {
        Some(buyer) => {
            let Some(user) = account(mailer, buyer).await? else {
                return Ok(Nothing(DELETED));
            };
            if user.email_verified_at.is_none() {
                return Ok(Nothing(UNCONFIRMED));
            }
            let language = language_of(&user);
            (
                user.email.clone(),
                Some(user.username.clone()),
                language,
                Viewer::User(buyer),
                mailer.link(&format!("/transactions/{id}")),
                words(language).footer_account,
            )
        }
        None => {
            let Some(email) = row.guest_email.clone() else {
                return Ok(Nothing("the guest left no address"));
            };
            let language = Language::from_tag(row.guest_language.as_deref().unwrap_or("en"));
            let key = guest_mail_key(mailer, id).await?;
            (
                email,
                None,
                language,
                Viewer::Guest,
                mailer.link(&format!("/transactions/{id}#key={key}")),
                words(language).footer_guest,
            )
        }
    };
    let view = transaction_response(&mailer.db, row, viewer, false).await?;
    let pdf = {
        let view = view.clone();
        tokio::task::spawn_blocking(move || crate::services::receipts::pdf(&view, language))
            .await
            .map_err(anyhow::Error::from)??
    };
    let w = words(language);
    let mut facts = vec![
        (w.fact_room.to_owned(), view.room_name.clone()),
        (w.fact_amount.to_owned(), view.amount.display()),
        (w.fact_seller.to_owned(), view.seller.username.clone()),
    ];
    if let Some(number) = &view.receipt_number {
        facts.push((w.fact_receipt.to_owned(), number.clone()));
    }
    if let Some(at) = view.completed_at {
        facts.push((w.fact_date.to_owned(), date(at)));
    }
    let mut blocks = vec![
        name.as_deref().map_or_else(
            || Block::Text(w.greeting_guest.into()),
            |name| greeting(w, name),
        ),
        Block::Text(w.receipt_body.into()),
        Block::Facts(facts),
    ];
    if let Some(delivery) = view.delivery.clone().filter(|d| !d.trim().is_empty()) {
        blocks.push(Block::Quote {
            label: w.receipt_delivery.into(),
            text: delivery,
        });
    }
    blocks.push(Block::Button {
        label: w.receipt_button.into(),
        url: link,
    });
    blocks.push(Block::Text(w.receipt_attached.into()));
    let number = view
        .receipt_number
        .clone()
        .unwrap_or_else(|| id.to_string());
    letter(Letter {
        to,
        to_name: name,
        language,
        subject: fill(w.receipt_subject, &[("room", &view.room_name)]),
        blocks,
        reason: reason.into(),
        unsubscribe: None,
        attachment: Some(Attachment {
            name: format!("{number}.pdf"),
            content_type: "application/pdf",
            bytes: pdf,
        }),
    })
}

/// The seller's "you sold …".
async fn sold(mailer: &Mailer, id: Uuid) -> Result<Composed> {
    let Some(row) = completed(mailer, id).await? else {
        return Ok(Nothing("the payment is not completed"));
    };
    let Some(seller) = account(mailer, row.seller_id).await? else {
        return Ok(Nothing(DELETED));
    };
    if !seller.mail_sales {
        return Ok(Nothing("the seller turned these notices off"));
    }
    if seller.email_verified_at.is_none() {
        return Ok(Nothing(UNCONFIRMED));
    }
    let language = language_of(&seller);
    let w = words(language);
    let wallet = row.seller_wallet_address.clone();
    let view = transaction_response(&mailer.db, row, Viewer::User(seller.id), false).await?;
    let buyer = if view.buyer.guest || view.buyer.username.is_empty() {
        w.a_guest.to_owned()
    } else {
        view.buyer.username.clone()
    };
    let mut facts = vec![
        (w.fact_room.to_owned(), view.room_name.clone()),
        (
            w.fact_received.to_owned(),
            view.received_amount
                .as_ref()
                .unwrap_or(&view.amount)
                .display(),
        ),
        (w.fact_buyer.to_owned(), buyer.clone()),
        (w.fact_wallet.to_owned(), wallet),
    ];
    if let Some(at) = view.completed_at {
        facts.push((w.fact_date.to_owned(), date(at)));
    }
    letter(Letter {
        blocks: vec![
            greeting(w, &seller.username),
            Block::Text(fill(
                w.sold_body,
                &[("buyer", &buyer), ("room", &view.room_name)],
            )),
            Block::Facts(facts),
            Block::Button {
                label: w.sold_button.into(),
                url: mailer.link(&format!("/transactions/{id}")),
            },
        ],
        unsubscribe: Some(mailer.unsubscribe(seller.id, Notice::Sales, w)),
        ..account_letter(
            &seller,
            &seller.email,
            fill(w.sold_subject, &[("room", &view.room_name)]),
        )
    })
}

/// The buyer's notice of a purchase that ended without money.
async fn problem(mailer: &Mailer, id: Uuid) -> Result<Composed> {
    let Some(row) = transactions::Entity::find_by_id(id).one(&mailer.db).await? else {
        return Ok(Nothing("the payment does not exist"));
    };
    let status: TransactionStatus =
        crate::entities::parse_stored("transactions.status", &row.status)?;
    let Some(buyer) = row.buyer_id else {
        return Ok(Nothing("a guest's purchase"));
    };
    // The buyer was right there when their one-click budget could not pay: the page said so
    // and offered the wallet's approval instead.
    if row.failure_code.as_deref() == Some(crate::payments::Failure::BudgetRefused.code()) {
        return Ok(Nothing("a one-click purchase the budget could not pay"));
    }
    let Some(user) = account(mailer, buyer).await? else {
        return Ok(Nothing(DELETED));
    };
    if !user.mail_payment_problems {
        return Ok(Nothing("the buyer turned these notices off"));
    }
    if user.email_verified_at.is_none() {
        return Ok(Nothing(UNCONFIRMED));
    }
    let language = language_of(&user);
    let w = words(language);
    let what = match status {
        TransactionStatus::Failed => w.problem_failed,
        TransactionStatus::Expired => w.problem_expired,
        TransactionStatus::Rejected => w.problem_rejected,
        _ => return Ok(Nothing("the payment did not fail")),
    };
    let view = transaction_response(&mailer.db, row, Viewer::User(buyer), false).await?;
    letter(Letter {
        blocks: vec![
            greeting(w, &user.username),
            Block::Text(what.into()),
            Block::Facts(vec![
                (w.fact_room.to_owned(), view.room_name.clone()),
                (w.fact_amount.to_owned(), view.amount.display()),
            ]),
            Block::Text(w.problem_nothing_moved.into()),
            Block::Button {
                label: w.problem_button.into(),
                url: mailer.link(&format!("/r/{}", view.room_code)),
            },
        ],
        unsubscribe: Some(mailer.unsubscribe(user.id, Notice::PaymentProblems, w)),
        ..account_letter(
            &user,
            &user.email,
            fill(w.problem_subject, &[("room", &view.room_name)]),
        )
    })
}

/// The longest quote of a message a mail carries.
const QUOTED_CHARS: usize = 1000;

/// The mail about a message its reader has not read: only the latest unread one of its
/// writer's in the conversation is told (a burst of messages makes one mail).
async fn unread(mailer: &Mailer, id: i64) -> Result<Composed> {
    let Some(message) = messages::Entity::find_by_id(id).one(&mailer.db).await? else {
        return Ok(Nothing("the message does not exist"));
    };
    let (Some(sender), Some(body)) = (message.sender_id, message.body.clone()) else {
        return Ok(Nothing("not a person's message"));
    };
    let Some(conversation) = conversations::Entity::find_by_id(message.conversation_id)
        .one(&mailer.db)
        .await?
    else {
        return Ok(Nothing("the conversation does not exist"));
    };
    let (reader, read_up_to) = if sender == conversation.buyer_id {
        (conversation.seller_id, conversation.seller_read_id)
    } else {
        (conversation.buyer_id, conversation.buyer_read_id)
    };
    if read_up_to >= id {
        return Ok(Nothing("the message was read"));
    }
    let later = messages::Entity::find()
        .filter(messages::Column::ConversationId.eq(conversation.id))
        .filter(messages::Column::SenderId.eq(sender))
        .filter(messages::Column::Id.gt(id))
        .count(&mailer.db)
        .await?;
    if later > 0 {
        return Ok(Nothing("a later message tells"));
    }
    let Some(user) = account(mailer, reader).await? else {
        return Ok(Nothing(DELETED));
    };
    if !user.mail_messages {
        return Ok(Nothing("the reader turned these notices off"));
    }
    if user.email_verified_at.is_none() {
        return Ok(Nothing(UNCONFIRMED));
    }
    let writer = crate::services::accounts::usernames(&mailer.db, vec![sender])
        .await?
        .remove(&sender)
        .unwrap_or_default();
    let room = rooms::Entity::find_by_id(conversation.room_id)
        .one(&mailer.db)
        .await?
        .map(|room| room.name)
        .unwrap_or_default();
    let w = words(language_of(&user));
    let slots = [("name", writer.as_str()), ("room", room.as_str())];
    let mut quoted: String = body.chars().take(QUOTED_CHARS).collect();
    if body.chars().count() > QUOTED_CHARS {
        quoted.push('…');
    }
    letter(Letter {
        blocks: vec![
            greeting(w, &user.username),
            Block::Quote {
                label: fill(w.unread_body, &slots),
                text: quoted,
            },
            Block::Button {
                label: w.unread_button.into(),
                url: mailer.link(&format!("/messages/{}", conversation.id)),
            },
            Block::Text(w.unread_note.into()),
        ],
        unsubscribe: Some(mailer.unsubscribe(user.id, Notice::Messages, w)),
        ..account_letter(&user, &user.email, fill(w.unread_subject, &slots))
    })
}

/// "Shifting turned off your webhook endpoint", while it still is off (not after its owner
/// turned it back on or deleted it).
async fn webhook_off(mailer: &Mailer, id: Uuid) -> Result<Composed> {
    let Some(endpoint) = webhook_endpoints::Entity::find_by_id(id)
        .one(&mailer.db)
        .await?
    else {
        return Ok(Nothing("the endpoint was deleted"));
    };
    if endpoint.enabled {
        return Ok(Nothing("the endpoint is on again"));
    }
    let reason = endpoint
        .disabled_reason
        .as_deref()
        .and_then(DisabledReason::parse);
    let Some(user) = account(mailer, endpoint.user_id).await? else {
        return Ok(Nothing(DELETED));
    };
    if user.email_verified_at.is_none() {
        return Ok(Nothing(UNCONFIRMED));
    }
    let w = words(language_of(&user));
    let why = match reason {
        Some(DisabledReason::Failing) => w.webhook_off_failing,
        Some(DisabledReason::Gone) => w.webhook_off_gone,
        Some(DisabledReason::Owner) | None => return Ok(Nothing("its owner turned it off")),
    };
    letter(Letter {
        blocks: vec![
            greeting(w, &user.username),
            Block::Text(fill(w.webhook_off_body, &[("url", &endpoint.url)])),
            Block::Text(why.into()),
            Block::Button {
                label: w.webhook_off_button.into(),
                url: mailer.link("/settings#webhooks"),
            },
        ],
        ..account_letter(&user, &user.email, w.webhook_off_subject.into())
    })
}

/// A live (not deleted) account.
async fn account(mailer: &Mailer, id: Uuid) -> Result<Option<users::Model>> {
    Ok(users::Entity::find_by_id(id)
        .one(&mailer.db)
        .await?
        .filter(|user| user.deleted_at.is_none()))
}

/// A completed purchase.
async fn completed(mailer: &Mailer, id: Uuid) -> Result<Option<transactions::Model>> {
    Ok(transactions::Entity::find_by_id(id)
        .one(&mailer.db)
        .await?
        .filter(|row| row.status == TransactionStatus::Completed.as_str()))
}

/// A fresh key that opens a guest's purchase from their mailed receipt (only its hash is
/// kept; a repeated delivery replaces it).
async fn guest_mail_key(mailer: &Mailer, id: Uuid) -> Result<String> {
    let key = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    transactions::Entity::update_many()
        .col_expr(
            transactions::Column::GuestMailKeyHash,
            Expr::value(sha256_hex(&key)),
        )
        .filter(transactions::Column::Id.eq(id))
        .exec(&mailer.db)
        .await?;
    Ok(key)
}

fn language_of(user: &users::Model) -> Language {
    Language::from_tag(&user.language)
}

fn greeting(w: &Words, name: &str) -> Block {
    Block::Text(fill(w.greeting, &[("name", name)]))
}

/// A letter to an account's `to`, with the account footer; the caller fills in the body.
fn account_letter(user: &users::Model, to: &str, subject: String) -> Letter {
    let language = language_of(user);
    Letter {
        to: to.to_owned(),
        to_name: Some(user.username.clone()),
        language,
        subject,
        blocks: Vec::new(),
        reason: words(language).footer_account.into(),
        unsubscribe: None,
        attachment: None,
    }
}

/// A time as mail shows it, the same for every reader: `2026-12-04 16:05 UTC`.
fn date(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

impl Mailer {
    /// An address of the web app.
    fn link(&self, path_and_fragment: &str) -> String {
        let base = self.public_url.as_str().trim_end_matches('/');
        format!("{base}{path_and_fragment}")
    }

    /// The unsubscribe addresses for `notice` of `user_id`.
    fn unsubscribe(&self, user_id: Uuid, notice: Notice, w: &Words) -> Unsubscribe {
        let token = self.unsubscribe.token(user_id, notice);
        Unsubscribe {
            page: self.link(&format!("/unsubscribe#token={token}")),
            one_click: self.link(&format!("/api/mail/unsubscribe?token={token}")),
            label: w.footer_unsubscribe.into(),
        }
    }
}
