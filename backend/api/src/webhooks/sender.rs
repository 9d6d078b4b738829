//! Posts queued webhook messages: signed (Standard Webhooks headers), under the outbound policy
//! wallet calls follow (no internal addresses unless exempted, `https` in real mode, checked on
//! the URL and on every resolved address), with no redirects, a 15-second limit and no more
//! than 64 KiB of answer read. A `Retry-After` on a failed answer is honoured (up to a day).
//! An endpoint failing for five days, or answering 410 Gone, is turned off; its owner sees why
//! in the app.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::sea_query::{LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, Condition, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, QueryTrait,
};
use shifting_open_payments::Clock;
use shifting_open_payments::fetch_policy::{FetchPolicy, GuardedResolver, PolicyError};
use shifting_shared::webhooks::DisabledReason;
use url::Url;

use super::{Job, message_id, signature};
use crate::entities::{outbox, webhook_endpoints, webhook_messages};
use crate::outbox::{Attempted, Channel, Deliver, Delivery};
use crate::secrets::Sealer;

/// The longest a call may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// The longest connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The most of an answer read (the rest is dropped with the connection).
const MAX_ANSWER: usize = 64 * 1024;
/// How long an endpoint may fail every delivery before it is turned off.
pub const DISABLE_AFTER: chrono::TimeDelta = chrono::TimeDelta::days(5);

/// The context a secret of endpoint `id` is sealed under.
#[must_use]
pub fn secret_context(id: uuid::Uuid) -> String {
    format!("webhook_endpoints.secret:{id}")
}

/// Delivers the webhook channel's rows.
#[derive(Debug)]
pub struct WebhookSender {
    db: DatabaseConnection,
    clock: Clock,
    sealer: Arc<Sealer>,
    policy: Arc<FetchPolicy>,
    http: reqwest::Client,
}

impl WebhookSender {
    /// A sender posting under `policy`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built (TLS set-up).
    pub fn new(
        db: DatabaseConnection,
        clock: Clock,
        sealer: Arc<Sealer>,
        policy: Arc<FetchPolicy>,
    ) -> anyhow::Result<Self> {
        // reqwest is built without a default crypto provider; this process uses ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .dns_resolver(GuardedResolver::new(Arc::clone(&policy)))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("shifting-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            db,
            clock,
            sealer,
            policy,
            http,
        })
    }

    /// Posts one message; the endpoint's failure record follows the answer.
    async fn send(&self, row: &outbox::Model) -> Attempted {
        let job: Job = match serde_json::from_str(&row.payload) {
            Ok(job) => job,
            Err(err) => return Delivery::Permanent(format!("unreadable job: {err}")).into(),
        };
        let found = webhook_messages::Entity::find_by_id(job.message_id)
            .find_also_related(webhook_endpoints::Entity)
            .one(&self.db)
            .await;
        let (message, endpoint) = match found {
            Ok(Some((message, Some(endpoint)))) => (message, endpoint),
            Ok(_) => {
                return Delivery::Dropped("the endpoint or the message was deleted".into()).into();
            }
            Err(err) => return Delivery::Retry(format!("database: {err}")).into(),
        };
        if !endpoint.enabled {
            return Delivery::Dropped("the endpoint is turned off".into()).into();
        }
        let url = match Url::parse(&endpoint.url) {
            Ok(url) => url,
            Err(err) => return Delivery::Permanent(format!("bad URL: {err}")).into(),
        };
        if let Err(err) = self.policy.check_url(&url) {
            return Delivery::Permanent(format!("refused: {err}")).into();
        }
        let now = self.clock.now();
        let Some(secrets) = self.secrets(&endpoint, now) else {
            return Delivery::Permanent("the signing secret cannot be opened".into()).into();
        };
        let id = message_id(message.id);
        let timestamp = now.timestamp();
        let signed = signature::sign(
            &secrets.iter().map(String::as_str).collect::<Vec<_>>(),
            &id,
            timestamp,
            &message.body,
        );
        let answer = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signed)
            .body(message.body)
            .send()
            .await;
        let attempted = match answer {
            Ok(mut answer) => {
                let code = answer.status();
                let retry_after = retry_after(answer.headers(), now);
                let delivery = if code.is_success() {
                    Delivery::Sent
                } else if code == reqwest::StatusCode::GONE {
                    Delivery::Permanent(format!("answered {code}: the endpoint is turned off"))
                } else if let Some(wait) = retry_after {
                    Delivery::Retry(format!(
                        "answered {code}, asking for {} s (Retry-After)",
                        wait.min(crate::outbox::MAX_RETRY_AFTER).as_secs()
                    ))
                } else {
                    Delivery::Retry(format!("answered {code}"))
                };
                let mut read = 0;
                while read < MAX_ANSWER {
                    match answer.chunk().await {
                        Ok(Some(chunk)) => read += chunk.len(),
                        Ok(None) | Err(_) => break,
                    }
                }
                Attempted {
                    delivery,
                    response_code: Some(code.as_u16()),
                    retry_after: retry_after.filter(|_| !code.is_success()),
                }
            }
            Err(err) => failure(&err).into(),
        };
        if let Err(err) = self.follow(&endpoint, &attempted, now).await {
            tracing::error!(endpoint = %endpoint.id, error = %err, "cannot record the endpoint's state");
        }
        attempted
    }

    /// The secrets that sign now: the current one, and the previous one for 24 hours after a
    /// rotation.
    fn secrets(
        &self,
        endpoint: &webhook_endpoints::Model,
        now: DateTime<Utc>,
    ) -> Option<Vec<String>> {
        let context = secret_context(endpoint.id);
        let mut secrets = vec![self.sealer.open(&endpoint.secret, &context).ok()?];
        if let (Some(previous), Some(until)) =
            (&endpoint.previous_secret, endpoint.previous_secret_until)
            && until > now
        {
            secrets.push(self.sealer.open(previous, &context).ok()?);
        }
        Some(secrets)
    }

    /// Records what the attempt says about the endpoint: working again, failing since now, or
    /// turned off (410, or failing for [`DISABLE_AFTER`]), its owner then told by mail.
    async fn follow(
        &self,
        endpoint: &webhook_endpoints::Model,
        attempted: &Attempted,
        now: DateTime<Utc>,
    ) -> crate::error::Result<()> {
        use webhook_endpoints::Column;
        let this = || webhook_endpoints::Entity::update_many().filter(Column::Id.eq(endpoint.id));
        let turn_off = |reason: DisabledReason| {
            this()
                .col_expr(Column::Enabled, Expr::value(false))
                .col_expr(Column::DisabledAt, Expr::value(Some(now)))
                .col_expr(
                    Column::DisabledReason,
                    Expr::value(Some(reason.as_str().to_owned())),
                )
                .col_expr(Column::UpdatedAt, Expr::value(now))
                .filter(Column::Enabled.eq(true))
        };
        match (&attempted.delivery, attempted.response_code) {
            // Working, as it was when read: nothing to write.
            (Delivery::Sent, _) if endpoint.failing_since.is_none() => {}
            (Delivery::Sent, _) => {
                this()
                    .col_expr(
                        Column::FailingSince,
                        Expr::value(Option::<DateTime<Utc>>::None),
                    )
                    .filter(Column::FailingSince.is_not_null())
                    .exec(&self.db)
                    .await?;
            }
            (Delivery::Permanent(_), Some(410)) => {
                let turned_off = self
                    .turn_off(endpoint.id, turn_off(DisabledReason::Gone), now)
                    .await?;
                tracing::warn!(endpoint = %endpoint.id, turned_off, "webhook endpoint answered 410 Gone");
            }
            (Delivery::Retry(_), _) => {
                if endpoint.failing_since.is_none() {
                    this()
                        .col_expr(Column::FailingSince, Expr::value(Some(now)))
                        .filter(Column::FailingSince.is_null())
                        .exec(&self.db)
                        .await?;
                }
                let failing = turn_off(DisabledReason::Failing)
                    .filter(Column::FailingSince.lte(now - DISABLE_AFTER));
                if self.turn_off(endpoint.id, failing, now).await? {
                    tracing::warn!(endpoint = %endpoint.id, "webhook endpoint failed for 5 days: turned off");
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Runs `update`, which turns endpoint `id` off when it still should be, and if it did,
    /// queues the mail telling its owner, in one transaction. Says whether it turned it off.
    async fn turn_off(
        &self,
        id: uuid::Uuid,
        update: sea_orm::UpdateMany<webhook_endpoints::Entity>,
        now: DateTime<Utc>,
    ) -> crate::error::Result<bool> {
        let txn = crate::db::begin_write(&self.db).await?;
        let off = update.exec(&txn).await?.rows_affected == 1;
        if off {
            let mail = crate::mail::MailJob::WebhookTurnedOff { endpoint_id: id };
            crate::mail::queue(&txn, &mail, now).await?;
        }
        txn.commit().await?;
        Ok(off)
    }
}

/// How long an answer asks to be left alone (`Retry-After`, RFC 9110 §10.2.3: seconds or an
/// HTTP date), if it says and can be read. A date in the past asks for no wait.
fn retry_after(headers: &reqwest::header::HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at: DateTime<Utc> = httpdate::parse_http_date(value).ok()?.into();
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// How a call that got no answer failed: refused by the policy for good, otherwise worth
/// trying again.
fn failure(err: &reqwest::Error) -> Delivery {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(cause) = source {
        if let Some(policy) = cause.downcast_ref::<PolicyError>() {
            return Delivery::Permanent(format!("refused: {policy}"));
        }
        source = cause.source();
    }
    if err.is_timeout() {
        Delivery::Retry(format!("no answer within {} s", TIMEOUT.as_secs()))
    } else if err.is_connect() {
        Delivery::Retry(format!("cannot connect: {}", root_cause(err)))
    } else {
        Delivery::Retry(root_cause(err))
    }
}

/// The innermost cause's text (reqwest's own is only "error sending request").
fn root_cause(err: &reqwest::Error) -> String {
    let mut last: &dyn std::error::Error = err;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

impl Deliver for WebhookSender {
    fn channel(&self) -> Channel {
        Channel::Webhook
    }

    async fn deliver(&self, row: &outbox::Model) -> Attempted {
        self.send(row).await
    }

    /// Forgets messages made before `cutoff` whose every send ended before it too, each with
    /// its rows and their attempts: the delivery log never shows a message with part of its
    /// history. Rows whose message is gone (its endpoint deleted) go on their own.
    async fn prune(
        &self,
        db: &DatabaseConnection,
        cutoff: DateTime<Utc>,
    ) -> crate::error::Result<u64> {
        // A row of the message that is pending or ended after the cutoff: it keeps it ("send
        // again" adds such a row).
        let recent = outbox::Entity::find()
            .select_only()
            .column(outbox::Column::Id)
            .filter(
                Expr::col((outbox::Entity, outbox::Column::SubjectId))
                    .equals((webhook_messages::Entity, webhook_messages::Column::Id)),
            )
            .filter(
                Condition::any()
                    .add(outbox::Column::DoneAt.is_null())
                    .add(outbox::Column::DoneAt.gte(cutoff)),
            )
            .into_query();
        let txn = crate::db::begin_write(db).await?;
        let mut old = webhook_messages::Entity::find()
            .select_only()
            .column(webhook_messages::Column::Id)
            .filter(webhook_messages::Column::CreatedAt.lt(cutoff))
            .filter(Expr::exists(recent).not())
            .limit(crate::outbox::PRUNE_BATCH);
        if db.get_database_backend() == DatabaseBackend::Postgres {
            // A "send again" holding the message (it reads it FOR UPDATE) keeps it.
            old = old.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let old: Vec<uuid::Uuid> = old.into_tuple().all(&txn).await?;
        if !old.is_empty() {
            let rows: Vec<uuid::Uuid> = outbox::Entity::find()
                .select_only()
                .column(outbox::Column::Id)
                .filter(outbox::Column::SubjectId.is_in(old.clone()))
                .into_tuple()
                .all(&txn)
                .await?;
            crate::outbox::delete_rows(&txn, rows).await?;
            webhook_messages::Entity::delete_many()
                .filter(webhook_messages::Column::Id.is_in(old.clone()))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        let orphans = webhook_messages::Entity::find()
            .select_only()
            .column(webhook_messages::Column::Id)
            .filter(
                Expr::col((webhook_messages::Entity, webhook_messages::Column::Id))
                    .equals((outbox::Entity, outbox::Column::SubjectId)),
            )
            .into_query();
        let orphans = crate::outbox::prune_rows(
            db,
            Channel::Webhook,
            cutoff,
            Condition::all().add(Expr::exists(orphans).not()),
        )
        .await?;
        Ok(Ord::max(old.len() as u64, orphans))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(value: &str) -> reqwest::header::HeaderMap {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::RETRY_AFTER,
            value.parse().expect("a header value"),
        );
        headers
    }

    #[test]
    fn retry_after_reads_seconds_and_the_three_http_date_forms() {
        let now: DateTime<Utc> = "1994-11-06T08:49:00Z".parse().expect("a time");
        assert_eq!(
            retry_after(&answer("120"), now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(retry_after(&answer(" 0 "), now), Some(Duration::ZERO));
        for date in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(
                retry_after(&answer(date), now),
                Some(Duration::from_secs(37)),
                "{date}"
            );
        }
        let later: DateTime<Utc> = "1994-11-07T00:00:00Z".parse().expect("a time");
        assert_eq!(
            retry_after(&answer("Sun, 06 Nov 1994 08:49:37 GMT"), later),
            Some(Duration::ZERO)
        );
        for unreadable in ["-5", "soon", "1.5", ""] {
            assert_eq!(retry_after(&answer(unreadable), now), None, "{unreadable}");
        }
        assert_eq!(retry_after(&reqwest::header::HeaderMap::new(), now), None);
    }
}
