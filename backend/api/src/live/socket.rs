//! One live socket: authentication by ticket (in the URL or the first message), what was missed
//! since the client's last message id, then pushed events, pings, and the end.
//!
//! Close codes: `4401` ticket missing, used or expired; `4408` no `hello` in time; `4429` too
//! many sockets for this user; `4008` the client fell too far behind (reconnect and resume);
//! `1001` the server is shutting down; `1011` a server error.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use shifting_shared::conversation::{LiveEvent, LiveHello};
use tokio::time::{Instant, MissedTickBehavior};
use uuid::Uuid;

use super::{Live, Subscription, render, tickets};
use crate::services::conversations;
use crate::state::AppState;

/// How long a client that did not pass its ticket in the URL has to send `hello`.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one frame may take to leave before the client counts as gone.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Close codes (RFC 6455 §7.4.2: 4000–4999 are the application's).
pub mod close {
    /// Ticket missing, used or expired.
    pub const UNAUTHORIZED: u16 = 4401;
    /// No `hello` in time.
    pub const HELLO_TIMEOUT: u16 = 4408;
    /// Too many sockets for this user.
    pub const TOO_MANY: u16 = 4429;
    /// The client fell too far behind.
    pub const TOO_SLOW: u16 = 4008;
    /// The server is shutting down.
    pub const GOING_AWAY: u16 = 1001;
    /// A server error.
    pub const SERVER_ERROR: u16 = 1011;
}

/// Who the socket is for, when the upgrade already said it (ticket in the URL).
#[derive(Clone, Copy, Debug)]
pub struct Opening {
    /// The user, known from a ticket in the URL.
    pub user: Option<Uuid>,
    /// The last message id the client saw, from the URL.
    pub after: Option<i64>,
}

/// Runs one socket to its end.
pub async fn run(mut socket: WebSocket, state: AppState, opening: Opening) {
    let Opening { user, mut after } = opening;
    let user = match user {
        Some(user) => user,
        None => match hello(&mut socket, &state).await {
            Ok((user, resume)) => {
                after = resume.or(after);
                user
            }
            Err((code, reason)) => return close_with(socket, code, reason).await,
        },
    };
    let live = state.live.clone();
    let Ok(subscription) = live.subscribe(user) else {
        return close_with(socket, close::TOO_MANY, "too many live sockets").await;
    };
    // Subscribed before reading what was missed: nothing falls between the two (the client
    // drops what it already has by id).
    if let Err(err) = catch_up(&mut socket, &state, user, after).await {
        tracing::warn!(error = %err, "cannot send a live socket what it missed");
        return close_with(socket, close::SERVER_ERROR, "server error").await;
    }
    pump(socket, &live, subscription).await;
}

/// Waits for `hello` and redeems its ticket.
async fn hello(
    socket: &mut WebSocket,
    state: &AppState,
) -> Result<(Uuid, Option<i64>), (u16, &'static str)> {
    let first = tokio::time::timeout(HELLO_TIMEOUT, socket.recv())
        .await
        .map_err(|_| (close::HELLO_TIMEOUT, "no hello"))?;
    let Some(Ok(Message::Text(text))) = first else {
        return Err((close::UNAUTHORIZED, "a hello with a ticket comes first"));
    };
    let Ok(LiveHello::Hello {
        ticket: Some(ticket),
        after,
    }) = serde_json::from_str::<LiveHello>(text.as_str())
    else {
        return Err((close::UNAUTHORIZED, "a hello with a ticket comes first"));
    };
    match tickets::redeem(&state.db, &ticket, state.settings.clock.now()).await {
        Ok(Some(user)) => Ok((user, after)),
        Ok(None) => Err((close::UNAUTHORIZED, "ticket invalid, used or expired")),
        Err(err) => {
            tracing::warn!(error = %err, "cannot check a live ticket");
            Err((close::SERVER_ERROR, "server error"))
        }
    }
}

/// Sends `ready` and the entries after `after`.
async fn catch_up(
    socket: &mut WebSocket,
    state: &AppState,
    user: Uuid,
    after: Option<i64>,
) -> anyhow::Result<()> {
    let unread = conversations::unread_total(&state.db, user).await?;
    send(socket, &render(&LiveEvent::Ready { unread })).await?;
    let Some(after) = after else {
        return Ok(());
    };
    let (missed, complete) =
        conversations::missed(&state.db, user, after, state.settings.clock.now()).await?;
    for message in missed {
        send(socket, &render(&LiveEvent::Message { message })).await?;
    }
    if !complete {
        send(socket, &render(&LiveEvent::Resync)).await?;
    }
    Ok(())
}

/// Pushes queued events, pings, and watches the client until one side ends.
async fn pump(mut socket: WebSocket, live: &Live, mut subscription: Subscription) {
    let interval = live.limits().ping_interval;
    let mut ping = tokio::time::interval_at(Instant::now() + interval, interval);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut heard = Instant::now();
    let kicked = Arc::clone(&subscription.kicked);
    loop {
        tokio::select! {
            event = subscription.events.recv() => match event {
                // A client that does not take frames is dropped without waiting for it.
                Some(text) => tokio::select! {
                    sent = send(&mut socket, &text) => if sent.is_err() {
                        return;
                    },
                    code = kicked.wait() => {
                        tracing::debug!(code, "a live socket dropped while a frame was pending");
                        return;
                    }
                },
                None => return close_with(socket, close::GOING_AWAY, "closing").await,
            },
            code = kicked.wait() => {
                let reason = match code {
                    close::TOO_SLOW => "too slow: reconnect and resume",
                    close::UNAUTHORIZED => "the session ended",
                    _ => "server shutting down",
                };
                return close_with(socket, code, reason).await;
            }
            _ = ping.tick() => {
                if heard.elapsed() > interval * 2 {
                    tracing::debug!("a live socket stopped answering pings");
                    return;
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                // Pongs, and anything else a client sends, show it is there.
                Some(Ok(_)) => heard = Instant::now(),
            },
        }
    }
}

async fn send(socket: &mut WebSocket, text: &Arc<str>) -> anyhow::Result<()> {
    tokio::time::timeout(
        SEND_TIMEOUT,
        socket.send(Message::Text(Utf8Bytes::from(text.as_ref()))),
    )
    .await
    .map_err(|_| anyhow::anyhow!("the client did not take a frame in time"))??;
    Ok(())
}

async fn close_with(mut socket: WebSocket, code: u16, reason: &'static str) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        })))
        .await;
}
