//! The HTTP layer: routing, middleware, extractors and handlers. Handlers do HTTP only and call
//! one service function each.

pub mod account;
pub mod admin;
pub mod auth;
pub mod budgets;
pub mod client_ip;
pub mod conversations;
pub mod extract;
pub mod health;
pub mod idempotency;
pub mod keys;
pub mod live;
pub mod me;
pub mod media;
pub mod openapi;
pub mod payments;
pub mod refunds;
pub mod reports;
pub mod reviews;
pub mod rooms;
pub mod scopes;
pub mod transactions;
pub mod web;
pub mod webhooks;

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::ApiError;
use crate::state::AppState;

/// Every documented API route. A route cannot be added without its OpenAPI description.
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(<openapi::ApiDoc as utoipa::OpenApi>::openapi())
        .routes(routes!(auth::signup))
        .routes(routes!(auth::login))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::logout))
        .routes(routes!(account::request_password_reset))
        .routes(routes!(account::confirm_password_reset))
        .routes(routes!(account::verify_email))
        .routes(routes!(account::unsubscribe))
        .routes(routes!(me::get_me, me::update_me, account::delete_account))
        .routes(routes!(account::resend_verification))
        .routes(routes!(account::change_password))
        .routes(routes!(account::change_email))
        .routes(routes!(account::set_preferences))
        .merge(
            // The writes an integrator may retry with `Idempotency-Key`.
            OpenApiRouter::new()
                .routes(routes!(rooms::create_room, rooms::list_rooms))
                .routes(routes!(payments::start_payment))
                .route_layer(axum::middleware::from_fn(idempotency::layer)),
        )
        .routes(routes!(rooms::get_room, rooms::update_room))
        .routes(routes!(rooms::move_room_wallet))
        .routes(routes!(media::add_room_image))
        .routes(routes!(media::room_image, media::remove_room_image))
        .routes(routes!(media::room_image_thumbnail))
        .routes(routes!(
            media::put_delivery_file,
            media::delete_delivery_file
        ))
        .routes(routes!(media::download_delivery_file))
        .routes(routes!(payments::start_guest_payment))
        .routes(routes!(me::claim_purchase))
        .routes(routes!(
            me::start_wallet_verification,
            me::wallet_verification
        ))
        .routes(routes!(me::finish_wallet_verification))
        .routes(routes!(payments::finish_payment))
        .routes(routes!(payments::confirm_payment))
        .routes(routes!(budgets::create_budget, budgets::list_budgets))
        .routes(routes!(budgets::get_budget, budgets::revoke_budget))
        .routes(routes!(budgets::finish_budget))
        .routes(routes!(transactions::list_transactions))
        .routes(routes!(transactions::summary))
        .routes(routes!(transactions::export_transactions))
        .routes(routes!(transactions::get_transaction))
        .routes(routes!(transactions::cancel_transaction))
        .routes(routes!(refunds::refund))
        .routes(routes!(refunds::request_refund))
        .routes(routes!(refunds::finish_refund))
        .routes(routes!(transactions::receipt_pdf))
        .routes(routes!(
            reviews::create_review,
            reviews::update_review,
            reviews::delete_review
        ))
        .routes(routes!(reviews::reply_to_review))
        .routes(routes!(reviews::room_reviews))
        .routes(routes!(reviews::seller_profile))
        .routes(routes!(reviews::seller_reviews))
        .routes(routes!(conversations::open_conversation))
        .routes(routes!(conversations::list_conversations))
        .routes(routes!(conversations::unread))
        .routes(routes!(conversations::get_conversation))
        .routes(routes!(
            conversations::list_messages,
            conversations::post_message
        ))
        .routes(routes!(conversations::mark_read))
        .routes(routes!(reports::create_report))
        .routes(routes!(keys::create_key, keys::list_keys))
        .routes(routes!(keys::revoke_key))
        .routes(routes!(webhooks::create_webhook, webhooks::list_webhooks))
        .routes(routes!(
            webhooks::get_webhook,
            webhooks::update_webhook,
            webhooks::delete_webhook
        ))
        .routes(routes!(webhooks::rotate_webhook_secret))
        .routes(routes!(webhooks::webhook_deliveries))
        .routes(routes!(webhooks::send_webhook_again))
        .merge(admin_router())
        .routes(routes!(live::live_ticket))
        .routes(routes!(live::live_socket))
        .routes(routes!(health::health))
        .routes(routes!(health::ready))
}

/// The admin panel's routes, all under `/api/admin`, all behind
/// [`extract::AdminUser`] (a test walks them to prove it).
pub fn admin_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(admin::overview))
        .routes(routes!(admin::users))
        .routes(routes!(admin::suspend_user))
        .routes(routes!(admin::unsuspend_user))
        .routes(routes!(admin::set_role))
        .routes(routes!(admin::rooms))
        .routes(routes!(admin::hide_room))
        .routes(routes!(admin::unhide_room))
        .routes(routes!(admin::close_room))
        .routes(routes!(admin::reports))
        .routes(routes!(admin::resolve_report))
        .routes(routes!(admin::dismiss_report))
        .routes(routes!(admin::transactions))
        .routes(routes!(admin::transaction))
        .routes(routes!(admin::provider_check))
        .routes(routes!(admin::stuck_payments))
        .routes(routes!(admin::audit))
}

/// The whole application: API, docs, web app and middleware.
pub fn router(
    state: AppState,
    web: &web::WebApp,
    sandbox: Option<&shifting_sandbox::Sandbox>,
) -> Router {
    let (api, _) = api_router().split_for_parts();
    let max_body = state.settings.server.max_body_bytes;
    let request_id = HeaderName::from_static("x-request-id");
    let middleware = ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }),
        )
        .layer(PropagateRequestIdLayer::new(request_id))
        .layer(axum::middleware::map_response(json_error_bodies))
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, web.content_security_policy()))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin")))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(axum::middleware::from_fn(request_timeout));

    let mut router = api
        .route("/api", any(api_not_found))
        .route("/api/{*rest}", any(api_not_found))
        .with_state(state.clone())
        // For the layers that run after routing and have no state of their own.
        .layer(axum::Extension(state.clone()))
        .merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", openapi::spec()));
    // The local mailbox lives beside the sandbox's wallets, under the same mount.
    let mailbox = state
        .settings
        .mail
        .smtp
        .is_none()
        .then(|| crate::mail::mailbox::router(state.db.clone()));
    match (sandbox, mailbox) {
        (Some(sandbox), Some(mailbox)) if sandbox.mount_path() == "/sandbox" => {
            router = router.nest("/sandbox", sandbox.router().merge(mailbox));
        }
        (sandbox, mailbox) => {
            if let Some(sandbox) = sandbox {
                router = router.nest(sandbox.mount_path(), sandbox.router());
            }
            if let Some(mailbox) = mailbox {
                router = router.nest("/sandbox", mailbox);
            }
        }
    }
    let metrics = state.settings.server.metrics_addr.is_some();
    let mut router = web.attach(router, state);
    if metrics {
        router = router.layer(crate::metrics::http_layer());
    }
    router
        .layer(DefaultBodyLimit::max(max_body))
        // A bug that panics answers 500 in our error format instead of dropping the connection.
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware)
}

/// How long a request may take to be answered.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long an upload may take: 25 MiB from a phone on a slow network.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(600);

/// Answers `408` to a request not answered in time; uploads (room pictures, delivery files)
/// get longer than the rest.
async fn request_timeout(request: Request, next: axum::middleware::Next) -> Response {
    let path = request.uri().path();
    let upload = matches!(
        *request.method(),
        axum::http::Method::POST | axum::http::Method::PUT
    ) && path.starts_with("/api/rooms/")
        && (path.ends_with("/images") || path.ends_with("/delivery-file"));
    let limit = if upload {
        UPLOAD_TIMEOUT
    } else {
        REQUEST_TIMEOUT
    };
    tokio::time::timeout(limit, next.run(request))
        .await
        .unwrap_or_else(|_| StatusCode::REQUEST_TIMEOUT.into_response())
}

/// The answer when a handler panicked: logged as an internal error, sent as our 500 body.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("a panic");
    ApiError::Internal(anyhow::anyhow!("handler panicked: {what}")).into_response()
}

async fn api_not_found() -> ApiError {
    ApiError::NotFound("There is no such API endpoint.")
}

/// Gives bodiless error responses from the framework (405, 408, 413 …) our JSON error body.
async fn json_error_bodies(response: Response) -> Response {
    let status = response.status();
    let is_error = status.is_client_error() || status.is_server_error();
    if !is_error || response.headers().contains_key(header::CONTENT_TYPE) {
        return response;
    }
    let error = match status {
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        StatusCode::REQUEST_TIMEOUT => ApiError::BadRequest("The request took too long.".into()),
        StatusCode::NOT_FOUND => ApiError::NotFound("Not found."),
        _ => return response,
    };
    let (mut parts, _) = response.into_parts();
    let (_, body) = error.into_response().into_parts();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, body)
}
