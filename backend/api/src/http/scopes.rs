//! Which operations an API key may call, and with which scope: one table, read by the
//! authentication extractors and by the OpenAPI document (each listed operation also accepts
//! the `api_key` scheme with its scope). Everything else that needs a session (account
//! operations: password, e-mail, deletion, budgets, reviews, messages, the keys themselves) is
//! refused to keys with 403. A test walks every route against this table.

use axum::http::Method;
use shifting_shared::keys::Scope;

/// `(method, route template, scope)` of every operation open to API keys.
pub const OPEN_TO_KEYS: &[(&str, &str, Scope)] = &[
    ("GET", "/api/me", Scope::Read),
    ("GET", "/api/rooms", Scope::Read),
    ("GET", "/api/transactions", Scope::Read),
    ("GET", "/api/transactions/summary", Scope::Read),
    ("GET", "/api/transactions/export.csv", Scope::Read),
    ("GET", "/api/transactions/{id}", Scope::Read),
    ("GET", "/api/transactions/{id}/receipt.pdf", Scope::Read),
    ("GET", "/api/transactions/{id}/delivery-file", Scope::Read),
    ("GET", "/api/conversations", Scope::Read),
    ("GET", "/api/conversations/unread", Scope::Read),
    ("GET", "/api/conversations/{id}", Scope::Read),
    ("GET", "/api/conversations/{id}/messages", Scope::Read),
    ("POST", "/api/rooms", Scope::RoomsWrite),
    ("PATCH", "/api/rooms/{code}", Scope::RoomsWrite),
    ("POST", "/api/rooms/{code}/wallet", Scope::RoomsWrite),
    ("POST", "/api/rooms/{code}/images", Scope::RoomsWrite),
    ("DELETE", "/api/rooms/{code}/images/{id}", Scope::RoomsWrite),
    ("PUT", "/api/rooms/{code}/delivery-file", Scope::RoomsWrite),
    (
        "DELETE",
        "/api/rooms/{code}/delivery-file",
        Scope::RoomsWrite,
    ),
    ("POST", "/api/rooms/{code}/payments", Scope::PaymentsWrite),
    (
        "POST",
        "/api/transactions/{id}/cancel",
        Scope::PaymentsWrite,
    ),
    (
        "POST",
        "/api/transactions/{id}/refund",
        Scope::PaymentsWrite,
    ),
    ("GET", "/api/webhooks", Scope::Read),
    ("GET", "/api/webhooks/{id}", Scope::Read),
    ("GET", "/api/webhooks/{id}/deliveries", Scope::Read),
    ("POST", "/api/webhooks", Scope::WebhooksWrite),
    ("PATCH", "/api/webhooks/{id}", Scope::WebhooksWrite),
    ("DELETE", "/api/webhooks/{id}", Scope::WebhooksWrite),
    ("POST", "/api/webhooks/{id}/secret", Scope::WebhooksWrite),
    (
        "POST",
        "/api/webhooks/{id}/deliveries/{message_id}/send",
        Scope::WebhooksWrite,
    ),
];

/// The scope a key needs for `method` on the route template `path`; `None`: keys may not.
#[must_use]
pub fn required(method: &Method, path: &str) -> Option<Scope> {
    OPEN_TO_KEYS
        .iter()
        .find(|(m, p, _)| *m == method.as_str() && *p == path)
        .map(|(_, _, scope)| *scope)
}

/// What a key lacking `scope` is told.
#[must_use]
pub fn lacking(scope: Scope) -> &'static str {
    match scope {
        Scope::Read => "This API key lacks the `read` scope.",
        Scope::RoomsWrite => "This API key lacks the `rooms:write` scope.",
        Scope::PaymentsWrite => "This API key lacks the `payments:write` scope.",
        Scope::WebhooksWrite => "This API key lacks the `webhooks:write` scope.",
    }
}
