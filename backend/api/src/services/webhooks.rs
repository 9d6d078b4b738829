//! Webhook endpoints: registered, changed, turned off and on, their secrets rotated, and
//! their delivery log read and resent, by their owner. What is sent and how lives in
//! [`crate::webhooks`].

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use shifting_open_payments::fetch_policy::FetchPolicy;
use shifting_shared::admin::checked_text;
use shifting_shared::webhooks::{
    CreateWebhookRequest, CreatedWebhookResponse, DeliveryAttempt, DeliveryPage, DeliveryResponse,
    DeliveryStatus, DisabledReason, EventType, MAX_DESCRIPTION, MAX_ENDPOINTS, MAX_URL,
    RotatedSecretResponse, UpdateWebhookRequest, WebhookListResponse, WebhookResponse,
};
use shifting_shared::{FieldCode, FieldError, FieldErrors};
use url::Url;
use uuid::Uuid;

use crate::db::begin_write;
use crate::entities::{outbox, outbox_attempts, parse_stored, webhook_endpoints, webhook_messages};
use crate::error::{ApiError, Result};
use crate::outbox::{Channel, NewRow};
use crate::secrets::Sealer;
use crate::services::pages;
use crate::webhooks::sender::secret_context;
use crate::webhooks::{Job, message_id, signature};

/// How long a rotated-out secret keeps signing.
pub const ROTATION_OVERLAP: TimeDelta = TimeDelta::hours(24);
/// How long registration waits for a host name to resolve.
const LOOKUP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// What is said about an endpoint that is not the caller's.
pub(crate) const NOT_YOURS: &str = "You have no webhook endpoint with this id.";

/// Registers an endpoint for `user_id`: the secret is in this answer only.
///
/// # Errors
/// 422 for a bad or refused URL, a bad description or no event types; 409 beyond
/// [`MAX_ENDPOINTS`].
pub async fn create(
    db: &DatabaseConnection,
    policy: &FetchPolicy,
    sealer: &Sealer,
    user_id: Uuid,
    request: &CreateWebhookRequest,
    now: DateTime<Utc>,
) -> Result<CreatedWebhookResponse> {
    let mut errors = FieldErrors::new();
    let url = checked_url(policy, &request.url)
        .await
        .map_err(|e| errors.insert("url", e))
        .ok();
    let description = checked_text(&request.description, MAX_DESCRIPTION, false)
        .map_err(|e| errors.insert("description", e))
        .ok();
    let events = checked_events(&request.event_types)
        .map_err(|e| errors.insert("event_types", e))
        .ok();
    let (Some(url), Some(description), Some(events)) = (url, description, events) else {
        return Err(ApiError::Validation(errors));
    };
    let count = webhook_endpoints::Entity::find()
        .filter(webhook_endpoints::Column::UserId.eq(user_id))
        .all(db)
        .await?
        .len();
    if count >= MAX_ENDPOINTS {
        return Err(ApiError::conflict(
            "You have the most webhook endpoints allowed (10): delete one first.",
        ));
    }
    let id = Uuid::new_v4();
    let secret = signature::new_secret();
    let row = webhook_endpoints::ActiveModel {
        id: Set(id),
        user_id: Set(user_id),
        url: Set(url),
        description: Set(description),
        event_types: Set(events),
        secret: Set(sealer.seal(&secret, &secret_context(id))),
        previous_secret: Set(None),
        previous_secret_until: Set(None),
        enabled: Set(true),
        disabled_at: Set(None),
        disabled_reason: Set(None),
        failing_since: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    tracing::info!(user = %user_id, endpoint = %id, "webhook endpoint registered");
    Ok(CreatedWebhookResponse {
        endpoint: response(row),
        secret,
    })
}

/// The caller's endpoints, newest first.
///
/// # Errors
/// Database errors.
pub async fn list(db: &DatabaseConnection, user_id: Uuid) -> Result<WebhookListResponse> {
    let endpoints = webhook_endpoints::Entity::find()
        .filter(webhook_endpoints::Column::UserId.eq(user_id))
        .order_by_desc(webhook_endpoints::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(response)
        .collect();
    Ok(WebhookListResponse { endpoints })
}

/// One of the caller's endpoints.
///
/// # Errors
/// 404 for an endpoint that is not theirs.
pub async fn get(db: &DatabaseConnection, user_id: Uuid, id: Uuid) -> Result<WebhookResponse> {
    Ok(response(own(db, user_id, id).await?))
}

/// Changes what `request` gives. Turning an endpoint back on starts its failure count again;
/// what it missed while off can be sent again from its delivery log.
///
/// # Errors
/// 404 for an endpoint that is not theirs; 422 as for [`create`].
pub async fn update(
    db: &DatabaseConnection,
    policy: &FetchPolicy,
    user_id: Uuid,
    id: Uuid,
    request: &UpdateWebhookRequest,
    now: DateTime<Utc>,
) -> Result<WebhookResponse> {
    let row = own(db, user_id, id).await?;
    let mut errors = FieldErrors::new();
    let mut change: webhook_endpoints::ActiveModel = row.clone().into();
    if let Some(url) = &request.url {
        match checked_url(policy, url).await {
            Ok(url) => change.url = Set(url),
            Err(e) => errors.insert("url", e),
        }
    }
    if let Some(description) = &request.description {
        match checked_text(description, MAX_DESCRIPTION, false) {
            Ok(text) => change.description = Set(text),
            Err(e) => errors.insert("description", e),
        }
    }
    if let Some(events) = &request.event_types {
        match checked_events(events) {
            Ok(events) => change.event_types = Set(events),
            Err(e) => errors.insert("event_types", e),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    match request.enabled {
        Some(true) if !row.enabled => {
            change.enabled = Set(true);
            change.disabled_at = Set(None);
            change.disabled_reason = Set(None);
            change.failing_since = Set(None);
        }
        Some(false) if row.enabled => {
            change.enabled = Set(false);
            change.disabled_at = Set(Some(now));
            change.disabled_reason = Set(Some(DisabledReason::Owner.as_str().to_owned()));
        }
        _ => {}
    }
    change.updated_at = Set(now);
    let row = change.update(db).await?;
    Ok(response(row))
}

/// Deletes an endpoint with its messages; what is queued for it is dropped.
///
/// # Errors
/// 404 for an endpoint that is not theirs.
pub async fn delete(db: &DatabaseConnection, user_id: Uuid, id: Uuid) -> Result<()> {
    own(db, user_id, id).await?;
    webhook_endpoints::Entity::delete_many()
        .filter(webhook_endpoints::Column::Id.eq(id))
        .filter(webhook_endpoints::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    tracing::info!(user = %user_id, endpoint = %id, "webhook endpoint deleted");
    Ok(())
}

/// A new signing secret; the previous one keeps signing beside it for
/// [`ROTATION_OVERLAP`] (a secret rotated out earlier stops now).
///
/// # Errors
/// 404 for an endpoint that is not theirs; 409 on a concurrent rotation.
pub async fn rotate_secret(
    db: &DatabaseConnection,
    sealer: &Sealer,
    user_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<RotatedSecretResponse> {
    let row = own(db, user_id, id).await?;
    let secret = signature::new_secret();
    let sealed = sealer.seal(&secret, &secret_context(id));
    let moved = webhook_endpoints::Entity::update_many()
        .col_expr(
            webhook_endpoints::Column::Secret,
            Expr::value(sealed.clone()),
        )
        .col_expr(
            webhook_endpoints::Column::PreviousSecret,
            Expr::value(Some(row.secret.clone())),
        )
        .col_expr(
            webhook_endpoints::Column::PreviousSecretUntil,
            Expr::value(Some(now + ROTATION_OVERLAP)),
        )
        .col_expr(webhook_endpoints::Column::UpdatedAt, Expr::value(now))
        .filter(webhook_endpoints::Column::Id.eq(id))
        .filter(webhook_endpoints::Column::Secret.eq(row.secret.clone()))
        .exec(db)
        .await?;
    if moved.rows_affected != 1 {
        return Err(ApiError::conflict(
            "The secret was rotated at the same time: rotate again if you need a secret you know.",
        ));
    }
    tracing::info!(user = %user_id, endpoint = %id, "webhook secret rotated");
    Ok(RotatedSecretResponse {
        endpoint: response(webhook_endpoints::Model {
            previous_secret: Some(row.secret.clone()),
            previous_secret_until: Some(now + ROTATION_OVERLAP),
            secret: sealed,
            updated_at: now,
            ..row
        }),
        secret,
    })
}

/// The endpoint's messages, newest first, each with its attempts (of every send).
///
/// # Errors
/// 404 for an endpoint that is not theirs; 422 for a bad cursor.
pub async fn deliveries(
    db: &DatabaseConnection,
    user_id: Uuid,
    id: Uuid,
    cursor: Option<&str>,
    limit: u64,
) -> Result<DeliveryPage> {
    own(db, user_id, id).await?;
    let query =
        webhook_messages::Entity::find().filter(webhook_messages::Column::EndpointId.eq(id));
    let (messages, next_cursor) = pages::fetch(db, query, cursor, limit).await?;
    let ids: Vec<Uuid> = messages.iter().map(|m| m.id).collect();
    let rows = outbox::Entity::find()
        .filter(outbox::Column::SubjectId.is_in(ids))
        .order_by_asc(outbox::Column::CreatedAt)
        .all(db)
        .await?;
    let attempts = outbox_attempts::Entity::find()
        .filter(outbox_attempts::Column::OutboxId.is_in(rows.iter().map(|r| r.id)))
        .order_by_asc(outbox_attempts::Column::At)
        .order_by_asc(outbox_attempts::Column::Attempt)
        .all(db)
        .await?;
    let mut sends: HashMap<Uuid, Vec<&outbox::Model>> = HashMap::new();
    for row in &rows {
        if let Some(subject) = row.subject_id {
            sends.entry(subject).or_default().push(row);
        }
    }
    let mut tries: HashMap<Uuid, Vec<&outbox_attempts::Model>> = HashMap::new();
    for attempt in &attempts {
        tries.entry(attempt.outbox_id).or_default().push(attempt);
    }
    let deliveries = messages
        .into_iter()
        .map(|message| -> Result<DeliveryResponse> {
            let sends = sends.remove(&message.id).unwrap_or_default();
            let latest = sends.last();
            let status = match latest.map(|row| row.status.as_str()) {
                Some("sent") => DeliveryStatus::Delivered,
                Some("pending") => DeliveryStatus::Pending,
                _ => DeliveryStatus::Failed,
            };
            let attempts = sends
                .iter()
                .flat_map(|row| tries.remove(&row.id).unwrap_or_default())
                .enumerate()
                .map(|(n, a)| DeliveryAttempt {
                    attempt: i32::try_from(n + 1).unwrap_or(i32::MAX),
                    at: a.at,
                    outcome: a.outcome.clone(),
                    response_code: a.response_code,
                    detail: a.detail.clone(),
                })
                .collect();
            Ok(DeliveryResponse {
                id: message_id(message.id),
                event_type: parse_stored("webhook_messages.event_type", &message.event_type)?,
                created_at: message.created_at,
                next_attempt_at: latest
                    .filter(|_| status == DeliveryStatus::Pending)
                    .map(|row| row.next_attempt_at),
                status,
                attempts,
            })
        })
        .collect::<Result<_>>()?;
    Ok(DeliveryPage {
        deliveries,
        next_cursor,
    })
}

/// Sends a message again now (the same `webhook-id` and body, signed afresh), whatever
/// became of it; refused while it is still pending or its endpoint is off.
///
/// # Errors
/// 404 for a message not of the caller's endpoint; 409 while pending or turned off.
pub async fn send_again(
    db: &DatabaseConnection,
    user_id: Uuid,
    endpoint_id: Uuid,
    message: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    const NO_MESSAGE: &str = "This endpoint has no message with this id.";
    let endpoint = own(db, user_id, endpoint_id).await?;
    if !endpoint.enabled {
        return Err(ApiError::conflict(
            "This endpoint is turned off: turn it on first.",
        ));
    }
    let id = message
        .strip_prefix("msg_")
        .and_then(|id| Uuid::parse_str(id).ok())
        .ok_or(ApiError::NotFound(NO_MESSAGE))?;
    let txn = begin_write(db).await?;
    let mut message = webhook_messages::Entity::find_by_id(id)
        .filter(webhook_messages::Column::EndpointId.eq(endpoint_id));
    if db.get_database_backend() == DatabaseBackend::Postgres {
        // Held until the new row is committed: two "send again" at once queue one row, and
        // the retention prune skips the message meanwhile (SQLite serialises writers anyway).
        message = message.lock_exclusive();
    }
    message
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound(NO_MESSAGE))?;
    let pending = outbox::Entity::find()
        .filter(outbox::Column::SubjectId.eq(id))
        .filter(outbox::Column::Status.eq("pending"))
        .one(&txn)
        .await?;
    if pending.is_some() {
        return Err(ApiError::conflict("This message is still being delivered."));
    }
    let queued = crate::outbox::queue(
        &txn,
        NewRow {
            channel: Channel::Webhook,
            dedupe_key: format!("webhook:again:{id}:{}", Uuid::new_v4()),
            user_id: Some(user_id),
            subject_id: Some(id),
            payload: serde_json::to_string(&Job { message_id: id }).map_err(anyhow::Error::from)?,
            due: now,
        },
        now,
    )
    .await?;
    txn.commit().await?;
    debug_assert!(queued);
    tracing::info!(user = %user_id, endpoint = %endpoint_id, message = %id, "webhook message sent again");
    Ok(())
}

/// The caller's endpoint `id`.
async fn own(db: &DatabaseConnection, user_id: Uuid, id: Uuid) -> Result<webhook_endpoints::Model> {
    webhook_endpoints::Entity::find_by_id(id)
        .filter(webhook_endpoints::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound(NOT_YOURS))
}

/// A URL the outbound policy allows, trimmed: `https` (or `http` in sandbox mode), no
/// credentials, not an internal address, nor a host name that resolves only to such.
async fn checked_url(policy: &FetchPolicy, text: &str) -> std::result::Result<String, FieldError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(FieldError::new(FieldCode::Required, "is required"));
    }
    if text.len() > MAX_URL {
        return Err(FieldError::new(
            FieldCode::TooLong,
            format!("is longer than {MAX_URL} bytes"),
        ));
    }
    let invalid = || FieldError::new(FieldCode::Invalid, "is not an absolute http(s) URL");
    let url = Url::parse(text).map_err(|_| invalid())?;
    let Some(host) = url.host_str().map(str::to_owned) else {
        return Err(invalid());
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FieldError::new(
            FieldCode::Invalid,
            "must not hold a user name or password",
        ));
    }
    let refused = |why: String| FieldError::new(FieldCode::UrlNotAllowed, why);
    policy
        .check_url(&url)
        .map_err(|err| refused(format!("is not allowed: {err}")))?;
    if url.domain().is_some() {
        let port = url.port_or_known_default().unwrap_or(443);
        let host = host.trim_end_matches('.').to_owned();
        // A name that does not resolve now (or not within 5 s) is accepted: deliveries check
        // it again and say what happens to it.
        let lookup = tokio::net::lookup_host((host.as_str(), port));
        if let Ok(Ok(addresses)) = tokio::time::timeout(LOOKUP_TIMEOUT, lookup).await {
            let addresses: Vec<_> = addresses.collect();
            if !addresses.is_empty()
                && !addresses
                    .iter()
                    .any(|address| policy.allows_address(&host, address.ip()))
            {
                return Err(refused(format!(
                    "is not allowed: {host} resolves only to internal addresses"
                )));
            }
        }
    }
    Ok(url.to_string())
}

/// The event types, deduplicated, as stored.
fn checked_events(events: &[EventType]) -> std::result::Result<String, FieldError> {
    let mut events = events.to_vec();
    events.sort();
    events.dedup();
    if events.is_empty() {
        return Err(FieldError::new(
            FieldCode::Required,
            "needs at least one event type",
        ));
    }
    Ok(events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(" "))
}

fn response(row: webhook_endpoints::Model) -> WebhookResponse {
    WebhookResponse {
        event_types: row
            .event_types
            .split_whitespace()
            .filter_map(|e| e.parse().ok())
            .collect(),
        id: row.id,
        url: row.url,
        description: row.description,
        enabled: row.enabled,
        disabled_at: row.disabled_at,
        disabled_reason: row
            .disabled_reason
            .as_deref()
            .and_then(DisabledReason::parse),
        failing_since: row.failing_since,
        previous_secret_until: row.previous_secret_until,
        created_at: row.created_at,
    }
}
