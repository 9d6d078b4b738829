//! Posts queued webhook messages: signed (Standard Webhooks headers), under the outbound policy
//! wallet calls follow (no internal addresses unless exempted, `https` in real mode, checked on
//! the URL and on every resolved address), with no redirects, a 15-second limit and no more
//! than 64 KiB of answer read. An endpoint failing for five days, or answering 410 Gone, is
//! turned off; its owner sees why in the app.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
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
            Ok(_) => return Delivery::Dropped("the endpoint was deleted".into()).into(),
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
                let mut read = 0;
                while read < MAX_ANSWER {
                    match answer.chunk().await {
                        Ok(Some(chunk)) => read += chunk.len(),
                        Ok(None) | Err(_) => break,
                    }
                }
                let delivery = if code.is_success() {
                    Delivery::Sent
                } else if code == reqwest::StatusCode::GONE {
                    Delivery::Permanent(format!("answered {code}: the endpoint is turned off"))
                } else {
                    Delivery::Retry(format!("answered {code}"))
                };
                Attempted {
                    delivery,
                    response_code: Some(code.as_u16()),
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
    /// turned off (410, or failing for [`DISABLE_AFTER`]).
    async fn follow(
        &self,
        endpoint: &webhook_endpoints::Model,
        attempted: &Attempted,
        now: DateTime<Utc>,
    ) -> Result<(), sea_orm::DbErr> {
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
                let off = turn_off(DisabledReason::Gone).exec(&self.db).await?;
                let turned_off = off.rows_affected == 1;
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
                let off = turn_off(DisabledReason::Failing)
                    .filter(Column::FailingSince.lte(now - DISABLE_AFTER))
                    .exec(&self.db)
                    .await?;
                if off.rows_affected == 1 {
                    tracing::warn!(endpoint = %endpoint.id, "webhook endpoint failed for 5 days: turned off");
                }
            }
            _ => {}
        }
        Ok(())
    }
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
}
