//! The OpenAPI 3.1 document, generated from the routes.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// Document-level metadata; the paths come from [`super::api_router`].
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Shifting API",
        description = "Peer-to-peer marketplace paid through Open Payments. All bodies are JSON; errors are \
            `{\"error\": {\"code\", \"message\", \"fields\"?}}`. Amounts are `{\"value\": \"<minor units>\", \"asset_code\", \"asset_scale\"}`. \
            Authenticate with `Authorization: Bearer <access_token>` from sign-up, log-in or refresh; \
            a guest buyer opens their purchase with `X-Guest-Key`.",
        license(name = "MIT")
    ),
    tags(
        (name = "auth", description = "Accounts and sessions"),
        (name = "me", description = "The signed-in user"),
        (name = "rooms", description = "Fixed-price rooms, shared by code"),
        (name = "payments", description = "Paying for a room through Open Payments"),
        (name = "budgets", description = "One-click budgets: approved once at the buyer's wallet, paying later purchases without a redirect"),
        (name = "transactions", description = "Purchases and sales with their status history"),
        (name = "reviews", description = "Reviews of completed purchases, sellers' replies and public seller profiles"),
        (name = "conversations", description = "Buyers' and sellers' conversations about a room, with its payments' entries"),
        (name = "live", description = "The live socket: pushed messages, read markers, unread totals and payment status"),
        (name = "keys", description = "API keys for integrators: `Authorization: Bearer shk_…` on the operations their scopes open (see the `api_key` scheme on each)"),
        (name = "webhooks", description = "Webhook endpoints (Standard Webhooks): each event is POSTed as a `WebhookEvent` with `webhook-id` (the same on every retry: deduplicate on it), `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,` + base64 HMAC-SHA256 with the `whsec_` secret's bytes over `id.timestamp.body`; two signatures for 24 hours after a rotation). A 2xx answer is a delivery; anything else is retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h, or later when the answer's `Retry-After` asks (up to 24 h); 410 Gone, or 5 days of failures, turns the endpoint off and mails its owner. Messages are kept 30 days after their last send"),
        (name = "reports", description = "Reporting rooms, reviews and messages to the platform's admins"),
        (name = "admin", description = "The admin panel: overview, accounts, rooms, reports, payments' evidence and the audit log (admins only)"),
        (name = "operations", description = "Health and readiness probes"),
    ),
    components(schemas(shifting_shared::webhooks::WebhookEvent)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// Adds the security schemes: `bearer` (JWT access tokens) and `guest_key` (the key of a guest's
/// purchase, from its receipt link).
#[derive(Debug)]
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("shk_")
                    .description(Some(
                        "An API key (`shk_…`, from `POST /api/me/api-keys`). Accepted only on the operations that list this scheme, with the scope they name; 403 elsewhere or without the scope, 401 when revoked or expired.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "guest_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Guest-Key",
                "The key of a guest's purchase (`guest_key` from `POST /api/rooms/{code}/guest-payments`; the receipt link's `#key=`). Opens that one transaction.",
            ))),
        );
    }
}

/// The complete document.
#[must_use]
pub fn spec() -> utoipa::openapi::OpenApi {
    let (_, mut spec) = super::api_router().split_for_parts();
    open_to_keys(&mut spec);
    links(&mut spec);
    // The version is the API contract's, not the crate's.
    spec.info.version = "1.0.0".into();
    spec
}

/// Adds the `api_key` scheme, with its scope, to every operation open to API keys.
fn open_to_keys(spec: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::security::SecurityRequirement;
    for (method, path, scope) in super::scopes::OPEN_TO_KEYS {
        let Some(item) = spec.paths.paths.get_mut(*path) else {
            continue;
        };
        let operation = match *method {
            "GET" => item.get.as_mut(),
            "POST" => item.post.as_mut(),
            "PUT" => item.put.as_mut(),
            "PATCH" => item.patch.as_mut(),
            "DELETE" => item.delete.as_mut(),
            _ => None,
        };
        if let Some(operation) = operation {
            operation
                .security
                .get_or_insert_with(Vec::new)
                .push(SecurityRequirement::new("api_key", [scope.as_str()]));
        }
    }
}

/// The OpenAPI links a client follows from an answer to the next call: from a new room to its
/// public view and its payment start, from a payment start to its transaction, from a new
/// webhook endpoint to its delivery log.
pub const LINKS: &[(&str, &str, &str, &str, &str, &str)] = &[
    // (method, path, status, link name, operationId, (parameter, runtime expression))
    (
        "POST",
        "/api/rooms",
        "201",
        "GetRoom",
        "get_room",
        "code=$response.body#/code",
    ),
    (
        "POST",
        "/api/rooms",
        "201",
        "StartPayment",
        "start_payment",
        "code=$response.body#/code",
    ),
    (
        "POST",
        "/api/rooms/{code}/payments",
        "201",
        "GetTransaction",
        "get_transaction",
        "id=$response.body#/transaction/id",
    ),
    (
        "POST",
        "/api/webhooks",
        "201",
        "GetWebhookDeliveries",
        "webhook_deliveries",
        "id=$response.body#/endpoint/id",
    ),
];

/// Adds [`LINKS`] to their responses.
fn links(spec: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::link::LinkBuilder;
    for (method, path, status, name, operation_id, parameter) in LINKS {
        let Some(item) = spec.paths.paths.get_mut(*path) else {
            continue;
        };
        let operation = match *method {
            "GET" => item.get.as_mut(),
            "POST" => item.post.as_mut(),
            _ => None,
        };
        let Some(RefOr::T(response)) =
            operation.and_then(|operation| operation.responses.responses.get_mut(*status))
        else {
            continue;
        };
        let (parameter, expression) = parameter.split_once('=').unwrap_or((parameter, ""));
        response.links.insert(
            (*name).to_owned(),
            RefOr::T(
                LinkBuilder::new()
                    .operation_id(*operation_id)
                    .parameter(parameter, expression)
                    .build(),
            ),
        );
    }
}

/// The complete document as pretty JSON (what `openapi/openapi.json` holds).
///
/// # Errors
/// When serialisation fails.
pub fn spec_json() -> Result<String, serde_json::Error> {
    spec().to_pretty_json()
}
