//! The consent interaction: the page a buyer's browser is sent to, the Approve and Decline
//! buttons, and the finish redirect back to the client with `interact_ref` and `hash`, or
//! `result=grant_rejected`. As in Rafiki, the interaction is bound to the browser that opened
//! it by a cookie.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State as StateExtractor};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use base64::Engine;
use maud::{DOCTYPE, Markup, html};
use ring::digest::{SHA256, digest};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use shifting_open_payments::finish::finish_hash;
use shifting_open_payments::types::{AccessAction, Amount};
use uuid::Uuid;

use crate::State;
use crate::access::Access;
use crate::auth::{hash, random_token, states};
use crate::money::{Asset, display};
use crate::store::{account, grant, incoming_payment};

const SESSION_COOKIE: &str = "sandbox_session";

/// How many browsers may hold a session for one interaction.
const MAX_SESSIONS: usize = 5;

const STYLE: &str = "\
*{box-sizing:border-box}\
body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;background:#f4f1ea;color:#1d1d1f}\
main{max-width:34rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:12px;box-shadow:0 1px 4px #0002}\
.wallet{margin:0 0 1rem;color:#4a4a4a;font-size:.9rem}\
h1{font-size:1.4rem;line-height:1.3;margin:0 0 1rem}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.5rem 1rem;margin:0 0 1.5rem}\
dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}\
.amount{font-size:1.25rem;font-weight:700}\
.muted{color:#4a4a4a;font-size:.875rem}\
.actions{display:flex;gap:.75rem;flex-wrap:wrap}\
button{font:inherit;font-weight:600;padding:.7rem 1.4rem;border-radius:8px;border:2px solid #1d4d3a;cursor:pointer;min-width:8rem}\
button.approve{background:#1d4d3a;color:#fff}\
button.decline{background:#fff;color:#1d4d3a}\
button:focus-visible{outline:3px solid #e0a100;outline-offset:2px}\
@media (max-width:420px){main{margin:0;border-radius:0}dl{grid-template-columns:1fr}.actions button{flex:1}}";

/// `GET {base}/auth/interact/{id}/{nonce}`: the consent page.
pub(crate) async fn start_interaction(
    StateExtractor(state): StateExtractor<Arc<State>>,
    Path((id, nonce)): Path<(String, String)>,
    jar: CookieJar,
) -> Response {
    match start(&state, &id, &nonce, jar).await {
        Ok(response) | Err(response) => response,
    }
}

async fn start(state: &State, id: &str, nonce: &str, jar: CookieJar) -> Result<Response, Response> {
    let grant = find(state, id, nonce).await?;
    if grant.state != states::PENDING {
        return Ok(finish_redirect(
            &grant,
            &[
                ("result", "invalid_interaction"),
                ("message", "invalid interaction"),
            ],
            StatusCode::FOUND,
        ));
    }
    let now = state.clock.now();
    if grant.interaction_expires_at.is_some_and(|at| at <= now) {
        return Ok(expired(&grant, StatusCode::FOUND));
    }
    // Several browsers (a link preview, a second tab) may open the page: each gets its own
    // session, and the last few stay valid.
    let session = random_token();
    let mut sessions: Vec<&str> = grant
        .session_hash
        .as_deref()
        .map(|s| s.split(' ').filter(|h| !h.is_empty()).collect())
        .unwrap_or_default();
    let new_hash = hash(&session);
    sessions.push(&new_hash);
    let keep = sessions.len().saturating_sub(MAX_SESSIONS);
    let sessions = sessions[keep..].join(" ");
    let stored = grant::Entity::update_many()
        .col_expr(grant::Column::SessionHash, Expr::value(sessions))
        .filter(grant::Column::Id.eq(grant.id))
        .filter(grant::Column::State.eq(states::PENDING))
        .exec(&state.db)
        .await
        .map_err(|e| internal(&e))?;
    if stored.rows_affected != 1 {
        return Err(page_error(
            StatusCode::CONFLICT,
            "This request was just answered",
            "Go back to the shop and check the payment.",
        ));
    }
    let remaining = grant
        .interaction_expires_at
        .map_or(0, |at| (at - now).num_seconds().max(0));
    let cookie = Cookie::build((SESSION_COOKIE, session))
        .path(format!(
            "{}/auth/interact/{}",
            state.mount_path,
            grant.interact_id.unwrap_or_default()
        ))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.secure_cookies)
        .max_age(time_duration(remaining));
    let details = describe(state, &grant).await.map_err(|e| internal(&e))?;
    let form_action = format!("{}/finish", state.interact_url(id_of(&grant), nonce));
    let body = consent_page(&grant, &details, &form_action);
    let mut response = (jar.add(cookie), html_response(StatusCode::OK, body)).into_response();
    if let Some(finish_origin) = grant
        .finish_uri
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
    {
        // The form's redirect goes to the client: browsers apply form-action to it too.
        let csp = format!(
            "default-src 'none'; style-src '{}'; form-action 'self' {}; frame-ancestors 'none'; base-uri 'none'",
            style_hash(),
            finish_origin.origin().ascii_serialization()
        );
        if let Ok(value) = HeaderValue::from_str(&csp) {
            response
                .headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, value);
        }
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub(crate) struct DecisionForm {
    decision: String,
}

/// `POST {base}/auth/interact/{id}/{nonce}/finish`: the Approve or Decline button.
pub(crate) async fn decide(
    StateExtractor(state): StateExtractor<Arc<State>>,
    Path((id, nonce)): Path<(String, String)>,
    jar: CookieJar,
    Form(form): Form<DecisionForm>,
) -> Response {
    match decide_inner(&state, &id, &nonce, &jar, &form.decision).await {
        Ok(response) | Err(response) => response,
    }
}

async fn decide_inner(
    state: &State,
    id: &str,
    nonce: &str,
    jar: &CookieJar,
    decision: &str,
) -> Result<Response, Response> {
    let grant = find(state, id, nonce).await?;
    check_session(&grant, jar)?;
    if grant.state != states::PENDING {
        // A double click: the first answer stands, and the browser goes where it said.
        return Ok(outcome_redirect(state, &grant, StatusCode::SEE_OTHER));
    }
    if grant
        .interaction_expires_at
        .is_some_and(|at| at <= state.clock.now())
    {
        return Ok(expired(&grant, StatusCode::SEE_OTHER));
    }
    let (new_state, interact_ref) = match decision {
        "approve" => (states::APPROVED, Some(Uuid::new_v4().to_string())),
        "decline" => (states::REJECTED, None),
        _ => {
            return Err(page_error(
                StatusCode::BAD_REQUEST,
                "Unknown answer",
                "Choose Approve or Decline.",
            ));
        }
    };
    let updated = grant::Entity::update_many()
        .col_expr(grant::Column::State, Expr::value(new_state))
        .col_expr(
            grant::Column::InteractRef,
            Expr::value(interact_ref.clone()),
        )
        .filter(grant::Column::Id.eq(grant.id))
        .filter(grant::Column::State.eq(states::PENDING))
        .exec(&state.db)
        .await
        .map_err(|e| internal(&e))?;
    if updated.rows_affected != 1 {
        return Err(page_error(
            StatusCode::BAD_REQUEST,
            "This request was already answered",
            "Each payment request can be approved or declined once.",
        ));
    }
    let grant = grant::Model {
        state: new_state.to_owned(),
        interact_ref,
        ..grant
    };
    Ok(outcome_redirect(state, &grant, StatusCode::SEE_OTHER))
}

/// `GET {base}/auth/interact/{id}/{nonce}/finish`: the same browser coming back gets the same
/// redirect again (Rafiki replays it too; single use is the client's job).
pub(crate) async fn replay_finish(
    StateExtractor(state): StateExtractor<Arc<State>>,
    Path((id, nonce)): Path<(String, String)>,
    jar: CookieJar,
) -> Response {
    let result = async {
        let grant = find(&state, &id, &nonce).await?;
        check_session(&grant, &jar)?;
        Ok::<_, Response>(outcome_redirect(&state, &grant, StatusCode::FOUND))
    }
    .await;
    match result {
        Ok(response) | Err(response) => response,
    }
}

fn outcome_redirect(state: &State, grant: &grant::Model, status: StatusCode) -> Response {
    match (grant.state.as_str(), &grant.interact_ref) {
        (states::APPROVED | states::FINALIZED, Some(interact_ref)) => {
            let hash = finish_hash(
                grant.client_nonce.as_deref().unwrap_or_default(),
                grant.interact_nonce.as_deref().unwrap_or_default(),
                interact_ref,
                &state.auth_server(),
            );
            finish_redirect(
                grant,
                &[("hash", &hash), ("interact_ref", interact_ref)],
                status,
            )
        }
        (states::REJECTED, _) => finish_redirect(grant, &[("result", "grant_rejected")], status),
        (states::REVOKED, _) => finish_redirect(
            grant,
            &[
                ("result", "unknown_interaction"),
                ("message", "unknown interaction"),
            ],
            status,
        ),
        _ => finish_redirect(grant, &[("result", "grant_invalid")], status),
    }
}

fn expired(grant: &grant::Model, status: StatusCode) -> Response {
    finish_redirect(
        grant,
        &[
            ("result", "invalid_interaction"),
            ("message", "interaction expired"),
        ],
        status,
    )
}

/// Redirects to the client's finish URI with `params` set (replacing any of the same name, as
/// Rafiki's `URLSearchParams.set` does).
fn finish_redirect(grant: &grant::Model, params: &[(&str, &str)], status: StatusCode) -> Response {
    let Some(mut uri) = grant
        .finish_uri
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
    else {
        return page_error(
            StatusCode::BAD_REQUEST,
            "Nowhere to go back to",
            "The shop gave no address to return to.",
        );
    };
    let kept: Vec<(String, String)> = uri
        .query_pairs()
        .filter(|(k, _)| !params.iter().any(|(name, _)| name == k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    {
        let mut query = uri.query_pairs_mut();
        query.clear();
        for (k, v) in &kept {
            query.append_pair(k, v);
        }
        for (k, v) in params {
            query.append_pair(k, v);
        }
    }
    let location = uri.as_str();
    match status {
        StatusCode::SEE_OTHER => Redirect::to(location).into_response(),
        _ => Redirect::temporary(location)
            .into_response()
            .map_status(StatusCode::FOUND),
    }
}

trait MapStatus {
    fn map_status(self, status: StatusCode) -> Self;
}

impl MapStatus for Response {
    fn map_status(mut self, status: StatusCode) -> Self {
        *self.status_mut() = status;
        self
    }
}

async fn find(state: &State, id: &str, nonce: &str) -> Result<grant::Model, Response> {
    let unknown = || {
        page_error(
            StatusCode::NOT_FOUND,
            "Unknown payment request",
            "This link does not lead to a payment request. Go back to the shop and start again.",
        )
    };
    let id = Uuid::parse_str(id).map_err(|_| unknown())?;
    grant::Entity::find()
        .filter(grant::Column::InteractId.eq(id))
        .one(&state.db)
        .await
        .map_err(|e| internal(&e))?
        .filter(|g| g.interact_nonce.as_deref() == Some(nonce))
        .ok_or_else(unknown)
}

/// The interaction was answered from a browser without its session cookie.
#[derive(Debug)]
struct InvalidSession;

impl From<InvalidSession> for Response {
    fn from(_: InvalidSession) -> Self {
        page_error(
            StatusCode::UNAUTHORIZED,
            "Open this request in the browser that started it",
            "This answer did not come from the browser the payment request was opened in (invalid session). Go back to the shop and start again.",
        )
    }
}

fn check_session(grant: &grant::Model, jar: &CookieJar) -> Result<(), InvalidSession> {
    let presented = jar
        .get(SESSION_COOKIE)
        .map(|c| hash(c.value()))
        .ok_or(InvalidSession)?;
    let known = grant.session_hash.as_deref().unwrap_or_default();
    if known.split(' ').any(|h| !h.is_empty() && h == presented) {
        Ok(())
    } else {
        Err(InvalidSession)
    }
}

fn id_of(grant: &grant::Model) -> Uuid {
    grant.interact_id.unwrap_or_default()
}

/// What the consent page shows for one access item.
#[derive(Debug)]
struct Line {
    what: String,
    amount: Option<String>,
    to: Option<String>,
}

#[derive(Debug)]
struct Details {
    payer: Option<account::Model>,
    payer_url: String,
    lines: Vec<Line>,
}

async fn describe(state: &State, grant: &grant::Model) -> Result<Details, sea_orm::DbErr> {
    let access: Vec<Access> = serde_json::from_value(grant.access.clone()).unwrap_or_default();
    let payer_url = access
        .iter()
        .find_map(|a| a.identifier().map(str::to_owned))
        .unwrap_or_default();
    let payer = match state.account_name(&payer_url) {
        Some(name) => account::Entity::find_by_id(name).one(&state.db).await?,
        None => None,
    };
    let mut lines = Vec::new();
    for item in &access {
        let line = match item {
            Access::OutgoingPayment { limits, .. } => {
                let limits = limits.clone().unwrap_or_default();
                let amount = match (&limits.debit_amount, &limits.receive_amount) {
                    (Some(debit), _) => format!("up to {}", amount_text(debit)),
                    (None, Some(receive)) => {
                        format!("enough to deliver {}", amount_text(receive))
                    }
                    (None, None) => "no limit".to_owned(),
                };
                let to = match &limits.receiver {
                    Some(receiver) => Some(describe_receiver(state, receiver).await?),
                    None => Some("anyone".to_owned()),
                };
                Line {
                    what: "Send a payment from your wallet".into(),
                    amount: Some(amount),
                    to,
                }
            }
            Access::IncomingPayment { actions, .. } => Line {
                what: format!("Incoming payments: {}", action_words(actions)),
                amount: None,
                to: None,
            },
            Access::Quote { actions, .. } => Line {
                what: format!("Quotes: {}", action_words(actions)),
                amount: None,
                to: None,
            },
        };
        lines.push(line);
    }
    Ok(Details {
        payer,
        payer_url,
        lines,
    })
}

async fn describe_receiver(state: &State, receiver: &str) -> Result<String, sea_orm::DbErr> {
    let Some(id) = state.resource_id("incoming-payments", receiver) else {
        return Ok(receiver.to_owned());
    };
    let Some(payment) = incoming_payment::Entity::find_by_id(id)
        .one(&state.db)
        .await?
    else {
        return Ok(receiver.to_owned());
    };
    let owner = account::Entity::find_by_id(payment.account.clone())
        .one(&state.db)
        .await?;
    let description = payment
        .metadata
        .as_ref()
        .and_then(|m| m.get("description"))
        .and_then(|d| d.as_str())
        .map(|d| format!(" for \u{201c}{d}\u{201d}"))
        .unwrap_or_default();
    Ok(match owner {
        Some(owner) => format!(
            "{} ({}){description}",
            owner.public_name,
            state.wallet_url(&owner.name)
        ),
        None => receiver.to_owned(),
    })
}

fn amount_text(amount: &Amount) -> String {
    display(
        amount.value,
        Asset {
            code: &amount.asset_code,
            scale: amount.asset_scale,
        },
    )
}

fn action_words(actions: &[AccessAction]) -> String {
    actions
        .iter()
        .map(|a| match a {
            AccessAction::Create => "create",
            AccessAction::Read => "read",
            AccessAction::ReadAll => "read all",
            AccessAction::List => "list",
            AccessAction::ListAll => "list all",
            AccessAction::Complete => "complete",
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn consent_page(grant: &grant::Model, details: &Details, form_action: &str) -> Markup {
    let payer_name = details
        .payer
        .as_ref()
        .map_or(details.payer_url.as_str(), |p| p.public_name.as_str());
    let balance = details.payer.as_ref().map(|p| {
        display(
            u64::try_from(p.balance).unwrap_or(0),
            Asset {
                code: &p.asset_code,
                scale: u8::try_from(p.asset_scale).unwrap_or(0),
            },
        )
    });
    page(
        &format!("{} asks for your approval", grant.client_name),
        html! {
            p.wallet { "Sandbox wallet \u{b7} signed in as " strong { (payer_name) } " (" (details.payer_url) ")" }
            h1 { (grant.client_name) " asks to pay from your wallet" }
            dl {
                dt { "Who asks" }
                dd { (grant.client_name) br; span.muted { (grant.client) } }
                @for line in &details.lines {
                    dt { "Access" }
                    dd { (line.what) }
                    @if let Some(amount) = &line.amount {
                        dt { "Amount" }
                        dd.amount { (amount) }
                    }
                    @if let Some(to) = &line.to {
                        dt { "To" }
                        dd { (to) }
                    }
                }
                @if let Some(balance) = &balance {
                    dt { "Your balance" }
                    dd { (balance) }
                }
            }
            form method="post" action=(form_action) {
                div.actions {
                    button.approve type="submit" name="decision" value="approve" { "Approve" }
                    button.decline type="submit" name="decision" value="decline" { "Decline" }
                }
            }
            p.muted { "Approving lets " (grant.client_name) " make this payment once, within the amount shown. Declining sends you back without paying." }
        },
    )
}

fn page(title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " \u{2013} Sandbox wallet" }
                style { (maud::PreEscaped(STYLE)) }
            }
            body { main { (content) } }
        }
    }
}

fn page_error(status: StatusCode, title: &str, message: &str) -> Response {
    html_response(
        status,
        page(
            title,
            html! {
                h1 { (title) }
                p { (message) }
            },
        ),
    )
}

fn internal(cause: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %cause, "sandbox consent page failed");
    page_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "The sandbox wallet could not handle this request. Try again.",
    )
}

fn html_response(status: StatusCode, body: Markup) -> Response {
    let mut response = (status, body.into_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(csp) = HeaderValue::from_str(&format!(
        "default-src 'none'; style-src '{}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        style_hash()
    )) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response
}

fn style_hash() -> String {
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(digest(&SHA256, STYLE.as_bytes()))
    )
}

fn time_duration(seconds: i64) -> time::Duration {
    time::Duration::seconds(seconds)
}
