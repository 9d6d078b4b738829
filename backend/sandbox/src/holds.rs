//! Test holds (`Switches::test_holds`): a protocol request stopped before it is handled, until
//! the test lets it go on or drops it. A test that kills its client while a request is held
//! knows exactly which step the client had reached, and chooses whether the wallet did the step
//! (the answer was lost) or never saw it.
//!
//! | request | what |
//! |---|---|
//! | `POST {base}/test/holds/{step}` | the next request of `step` will be held (`?after=N`: the one after the next `N`) |
//! | `GET {base}/test/holds/{step}` | answers once a request of `step` is held (at most 30 s) |
//! | `POST {base}/test/holds/{step}/release?then=proceed` | the held request is handled; its answer goes to whoever still listens |
//! | `POST {base}/test/holds/{step}/release?then=drop` | the held request is answered 503 without being handled |
//!
//! The steps are the protocol requests a client makes, named by [`step`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, Request, State as StateExtractor};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::watch;

use crate::State;

/// The steps that can be held: every request of the auth and resource servers.
const STEPS: &[&str] = &[
    "grant",
    "continue",
    "cancel-grant",
    "rotate-token",
    "revoke-token",
    "incoming-payment",
    "get-incoming-payment",
    "list-incoming-payments",
    "complete-incoming-payment",
    "quote",
    "get-quote",
    "outgoing-payment",
    "get-outgoing-payment",
    "list-outgoing-payments",
];

/// How long `GET {base}/test/holds/{step}` waits for a request before answering that none came.
const HELD_WAIT: Duration = Duration::from_secs(30);

/// The armed holds, by step.
#[derive(Debug, Default)]
pub(crate) struct Holds(Mutex<HashMap<&'static str, Arc<Hold>>>);

#[derive(Debug)]
struct Hold {
    /// How many requests of the step still pass before one is held.
    after: AtomicU32,
    /// Whether a request is held.
    held: watch::Sender<bool>,
    /// What the held request is to do, once the test says.
    then: watch::Sender<Option<Then>>,
}

/// What a released request does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Then {
    /// It is handled as if it had never stopped.
    Proceed,
    /// It is answered 503 and never handled.
    Drop,
}

/// The step of a protocol request, by its method and its path under the sandbox's root.
fn step(method: &Method, path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let post = *method == Method::POST;
    let get = *method == Method::GET;
    let delete = *method == Method::DELETE;
    Some(match segments.as_slice() {
        ["auth"] if post => "grant",
        ["auth", "continue", _] if post => "continue",
        ["auth", "continue", _] if delete => "cancel-grant",
        ["auth", "token", _] if post => "rotate-token",
        ["auth", "token", _] if delete => "revoke-token",
        ["rs", "incoming-payments"] if post => "incoming-payment",
        ["rs", "incoming-payments"] if get => "list-incoming-payments",
        ["rs", "incoming-payments", _] if get => "get-incoming-payment",
        ["rs", "incoming-payments", _, "complete"] if post => "complete-incoming-payment",
        ["rs", "quotes"] if post => "quote",
        ["rs", "quotes", _] if get => "get-quote",
        ["rs", "outgoing-payments"] if post => "outgoing-payment",
        ["rs", "outgoing-payments"] if get => "list-outgoing-payments",
        ["rs", "outgoing-payments", _] if get => "get-outgoing-payment",
        _ => return None,
    })
}

impl Holds {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<&'static str, Arc<Hold>>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn armed(&self, step: &str) -> Option<Arc<Hold>> {
        self.lock().get(step).cloned()
    }

    /// The hold armed for `step` if it holds nothing yet; it now holds the caller.
    fn catch(&self, step: &str) -> Option<Arc<Hold>> {
        let hold = self.armed(step)?;
        let passes = hold
            .after
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if passes {
            return None;
        }
        hold.held
            .send_if_modified(|held| !std::mem::replace(held, true))
            .then_some(hold)
    }
}

/// Middleware on the protocol routes: a request whose step is armed waits for its release.
pub(crate) async fn hold_requests(
    StateExtractor(state): StateExtractor<Arc<State>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(hold) =
        step(request.method(), request.uri().path()).and_then(|s| state.holds.catch(s))
    else {
        return next.run(request).await;
    };
    let mut then = hold.then.subscribe();
    let decided = then.wait_for(Option::is_some).await.map(|then| *then);
    match decided {
        Ok(Some(Then::Proceed)) => {
            // Handled to the end even when the client has gone (the connection's future would
            // be dropped with it): that is the wallet that did the step and lost the answer.
            match tokio::spawn(next.run(request)).await {
                Ok(response) => response,
                Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
        }
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": {
                "code": "503",
                "description": "held by a test and dropped",
            }})),
        )
            .into_response(),
    }
}

fn unknown_step(step: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": format!("no step {step}; the steps are {}", STEPS.join(", "))})),
    )
        .into_response()
}

/// Which request of the step is held.
#[derive(Debug, Deserialize)]
pub(crate) struct Arm {
    /// How many requests of the step pass first.
    #[serde(default)]
    after: u32,
}

/// A step with no armed hold (or no such step).
fn not_armed(step: &str) -> Response {
    if !STEPS.contains(&step) {
        return unknown_step(step);
    }
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": format!("no hold is armed for {step}")})),
    )
        .into_response()
}

/// `POST {base}/test/holds/{step}?after=N`: holds the request of `step` after the next `N`.
pub(crate) async fn arm(
    StateExtractor(state): StateExtractor<Arc<State>>,
    Path(step): Path<String>,
    Query(arm): Query<Arm>,
) -> Response {
    let Some(step) = STEPS.iter().copied().find(|known| *known == step) else {
        return unknown_step(&step);
    };
    let mut holds = state.holds.lock();
    if holds.contains_key(step) {
        return (
            StatusCode::CONFLICT,
            Json(json!({"error": format!("{step} is already held")})),
        )
            .into_response();
    }
    holds.insert(
        step,
        Arc::new(Hold {
            after: AtomicU32::new(arm.after),
            held: watch::Sender::new(false),
            then: watch::Sender::new(None),
        }),
    );
    (
        StatusCode::CREATED,
        Json(json!({"step": step, "held": false})),
    )
        .into_response()
}

/// `GET {base}/test/holds/{step}`: once a request of `step` is held (or after 30 s without).
pub(crate) async fn held(
    StateExtractor(state): StateExtractor<Arc<State>>,
    Path(step): Path<String>,
) -> Response {
    let Some(hold) = state.holds.armed(&step) else {
        return not_armed(&step);
    };
    let mut held = hold.held.subscribe();
    let caught = tokio::time::timeout(HELD_WAIT, held.wait_for(|held| *held))
        .await
        .is_ok_and(|caught| caught.is_ok());
    Json(json!({"step": step, "held": caught})).into_response()
}

/// How a release is asked for.
#[derive(Debug, Deserialize)]
pub(crate) struct Release {
    then: Then,
}

/// `POST {base}/test/holds/{step}/release?then=proceed|drop`: lets the held request go on, or
/// drops it; the hold is disarmed.
pub(crate) async fn release(
    StateExtractor(state): StateExtractor<Arc<State>>,
    Path(step): Path<String>,
    Query(release): Query<Release>,
) -> Response {
    let mut holds = state.holds.lock();
    match holds.get(step.as_str()) {
        Some(hold) if *hold.held.borrow() => {
            hold.then.send_replace(Some(release.then));
            holds.remove(step.as_str());
        }
        Some(_) => {
            return (
                StatusCode::CONFLICT,
                Json(json!({"error": format!("no request of {step} is held yet")})),
            )
                .into_response();
        }
        None => return not_armed(&step),
    }
    drop(holds);
    Json(json!({"step": step, "released": true})).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_protocol_request_has_its_step_and_nothing_else_does() {
        let id = "0f8c7e52-2a0a-4a8e-9d6e-5f1e2f0b7a11";
        let cases = [
            (Method::POST, "/auth".to_owned(), Some("grant")),
            (
                Method::POST,
                format!("/auth/continue/{id}"),
                Some("continue"),
            ),
            (
                Method::DELETE,
                format!("/auth/continue/{id}"),
                Some("cancel-grant"),
            ),
            (
                Method::POST,
                format!("/auth/token/{id}"),
                Some("rotate-token"),
            ),
            (
                Method::DELETE,
                format!("/auth/token/{id}"),
                Some("revoke-token"),
            ),
            (
                Method::POST,
                "/rs/incoming-payments".into(),
                Some("incoming-payment"),
            ),
            (
                Method::GET,
                "/rs/incoming-payments".into(),
                Some("list-incoming-payments"),
            ),
            (
                Method::GET,
                format!("/rs/incoming-payments/{id}"),
                Some("get-incoming-payment"),
            ),
            (
                Method::POST,
                format!("/rs/incoming-payments/{id}/complete"),
                Some("complete-incoming-payment"),
            ),
            (Method::POST, "/rs/quotes".into(), Some("quote")),
            (Method::GET, format!("/rs/quotes/{id}"), Some("get-quote")),
            (
                Method::POST,
                "/rs/outgoing-payments".into(),
                Some("outgoing-payment"),
            ),
            (
                Method::GET,
                "/rs/outgoing-payments".into(),
                Some("list-outgoing-payments"),
            ),
            (
                Method::GET,
                format!("/rs/outgoing-payments/{id}"),
                Some("get-outgoing-payment"),
            ),
            (Method::GET, "/alice".into(), None),
            (Method::GET, format!("/auth/interact/{id}/nonce"), None),
            (Method::PUT, "/rs/quotes".into(), None),
        ];
        let mut named = Vec::new();
        for (method, path, expected) in cases {
            assert_eq!(step(&method, &path), expected, "{method} {path}");
            named.extend(expected);
        }
        named.sort_unstable();
        let mut all = STEPS.to_vec();
        all.sort_unstable();
        assert_eq!(named, all);
    }
}
