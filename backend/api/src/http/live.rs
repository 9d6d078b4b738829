//! The live socket (`GET /api/live`, a WebSocket) and its tickets (`POST /api/live/ticket`).
//! The protocol is described in the README ("Live updates").

use axum::extract::rejection::QueryRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use shifting_shared::ErrorBody;
use shifting_shared::conversation::TicketResponse;

use crate::error::{ApiError, Result};
use crate::http::extract::AuthUser;
use crate::live::socket::{self, Opening};
use crate::live::tickets::{self, TICKET_TTL_SECS};
use crate::state::AppState;

/// The largest frame or message a client may send (it only ever sends `hello`).
const MAX_CLIENT_MESSAGE: usize = 4 * 1024;
/// Buffers per socket: small, so that many idle sockets cost little memory.
const SOCKET_BUFFER: usize = 4 * 1024;

/// Get a single-use ticket to open a live socket within 30 seconds (browsers cannot send the
/// bearer token on a WebSocket upgrade).
#[utoipa::path(
    post,
    path = "/api/live/ticket",
    tag = "live",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "A ticket; only its SHA-256 is kept.", body = TicketResponse),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 429, description = "Too many tickets for this account (60 a minute, 30 at once).", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn live_ticket(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<(StatusCode, axum::Json<TicketResponse>)> {
    state.ticket_limiter.check_key(&user.id)?;
    let ticket = tickets::issue(&state.db, user.id, state.settings.clock.now()).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(TicketResponse {
            ticket,
            expires_in: TICKET_TTL_SECS,
        }),
    ))
}

/// How a live socket is opened.
#[derive(Clone, Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LiveQuery {
    /// A ticket from `POST /api/live/ticket`; without it, the first message must be
    /// `{"type":"hello","ticket":"…"}`.
    pub ticket: Option<String>,
    /// The last message id the client saw: the entries after it are sent first.
    #[param(minimum = 0)]
    pub after: Option<i64>,
}

/// Open the live socket (WebSocket): new messages, read markers, unread totals and transaction
/// status changes of the ticket's user, pushed as JSON text frames. A browser's `Origin` must
/// be this server's public URL.
#[utoipa::path(
    get,
    path = "/api/live",
    tag = "live",
    params(LiveQuery),
    responses(
        (status = 101, description = "Switched to the WebSocket protocol."),
        (status = 400, description = "Not a WebSocket upgrade, or a malformed query.", body = ErrorBody),
        (status = 401, description = "The ticket in the URL is unknown, used or expired.", body = ErrorBody),
        (status = 403, description = "`Origin` is not this server's public URL.", body = ErrorBody),
        (status = 429, description = "The user holds the most live sockets allowed on this server.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn live_socket(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: std::result::Result<Query<LiveQuery>, QueryRejection>,
    upgrade: std::result::Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response> {
    let Query(query) = query.map_err(|e| ApiError::BadRequest(format!("{}.", e.body_text())))?;
    // Cross-site WebSocket hijacking: a page elsewhere cannot open a socket here in a
    // visitor's browser. Clients that are not browsers send no `Origin`.
    if let Some(origin) = headers.get(header::ORIGIN) {
        let ours = state.public_url.origin().ascii_serialization();
        if origin.as_bytes() != ours.as_bytes() {
            return Err(ApiError::Forbidden(
                "Live sockets open only from this site's pages.",
            ));
        }
    }
    let upgrade = upgrade.map_err(|_| {
        ApiError::BadRequest("Open this address as a WebSocket (an HTTP upgrade).".into())
    })?;
    let user = match &query.ticket {
        Some(ticket) => {
            let now = state.settings.clock.now();
            let invalid = || ApiError::Unauthorized("The live ticket is unknown, used or expired.");
            // A refused socket keeps its ticket: the client may try again with it.
            let holder = tickets::holder(&state.db, ticket, now)
                .await?
                .ok_or_else(invalid)?;
            if !state.live.has_room_for(holder) {
                return Err(ApiError::TooManyRequests {
                    retry_after_secs: 5,
                });
            }
            Some(
                tickets::redeem(&state.db, ticket, now)
                    .await?
                    .ok_or_else(invalid)?,
            )
        }
        None => None,
    };
    let opening = Opening {
        user,
        after: query.after,
    };
    Ok(upgrade
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .read_buffer_size(SOCKET_BUFFER)
        .write_buffer_size(SOCKET_BUFFER)
        .max_write_buffer_size(SOCKET_BUFFER * 64)
        .on_upgrade(move |ws| socket::run(ws, state, opening)))
}
