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
use crate::language::{Lang, Notice, fill};
use crate::money::Asset;
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
button:focus-visible,input:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}\
label{display:block;font-weight:600;margin:0 0 .25rem}\
input{font:inherit;width:100%;padding:.6rem;border:1px solid #6b6b6b;border-radius:8px;margin:0 0 1rem}\
.error{color:#a4262c;font-weight:600}\
form+form{margin-top:.75rem}\
@media (max-width:420px){main{margin:0;border-radius:0}dl{grid-template-columns:1fr}.actions button{flex:1}}";

/// `GET {base}/auth/interact/{id}/{nonce}`: the consent page.
pub(crate) async fn start_interaction(
    StateExtractor(state): StateExtractor<Arc<State>>,
    Path((id, nonce)): Path<(String, String)>,
    lang: Lang,
    jar: CookieJar,
) -> Response {
    match start(&state, &id, &nonce, lang, jar).await {
        Ok(response) | Err(response) => response,
    }
}

async fn start(
    state: &State,
    id: &str,
    nonce: &str,
    lang: Lang,
    jar: CookieJar,
) -> Result<Response, Response> {
    let grant = find(state, id, nonce, lang).await?;
    if grant.state != states::PENDING {
        return Ok(finish_redirect(
            &grant,
            &[
                ("result", "invalid_interaction"),
                ("message", "invalid interaction"),
            ],
            StatusCode::FOUND,
            lang,
        ));
    }
    let now = state.clock.now();
    if grant.interaction_expires_at.is_some_and(|at| at <= now) {
        return Ok(expired(&grant, StatusCode::FOUND, lang));
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
        .map_err(|e| internal(&e, lang))?;
    if stored.rows_affected != 1 {
        return Err(page_error(
            StatusCode::CONFLICT,
            &lang.texts().just_answered,
            lang,
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
    let form_action = format!("{}/finish", state.interact_url(id_of(&grant), nonce));
    let body = if let Some(subject) = &grant.subject {
        let owner = subject_owner(state, subject)
            .await
            .map_err(|e| internal(&e, lang))?;
        let login_action = format!("{}/login", state.interact_url(id_of(&grant), nonce));
        subject_page(
            &grant,
            owner.as_ref(),
            &SubjectStep::SignIn {
                action: &login_action,
                wrong_password: false,
            },
            &form_action,
            lang,
        )
    } else {
        let details = describe(state, &grant, lang)
            .await
            .map_err(|e| internal(&e, lang))?;
        consent_page(&grant, &details, &form_action, lang)
    };
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
    lang: Lang,
    jar: CookieJar,
    Form(form): Form<DecisionForm>,
) -> Response {
    match decide_inner(&state, &id, &nonce, lang, &jar, &form.decision).await {
        Ok(response) | Err(response) => response,
    }
}

async fn decide_inner(
    state: &State,
    id: &str,
    nonce: &str,
    lang: Lang,
    jar: &CookieJar,
    decision: &str,
) -> Result<Response, Response> {
    let grant = answerable(state, id, nonce, lang, jar).await?;
    if decision == "approve" && grant.subject.is_some() && !signed_in(&grant, jar) {
        return Err(page_error(
            StatusCode::UNAUTHORIZED,
            &lang.texts().not_signed_in,
            lang,
        ));
    }
    let (new_state, interact_ref) = match decision {
        "approve" => (states::APPROVED, Some(Uuid::new_v4().to_string())),
        "decline" => (states::REJECTED, None),
        _ => {
            return Err(page_error(
                StatusCode::BAD_REQUEST,
                &lang.texts().unknown_answer,
                lang,
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
        .map_err(|e| internal(&e, lang))?;
    if updated.rows_affected != 1 {
        return Err(page_error(
            StatusCode::BAD_REQUEST,
            &lang.texts().already_answered,
            lang,
        ));
    }
    let grant = grant::Model {
        state: new_state.to_owned(),
        interact_ref,
        ..grant
    };
    Ok(outcome_redirect(state, &grant, StatusCode::SEE_OTHER, lang))
}

/// `GET {base}/auth/interact/{id}/{nonce}/finish`: the same browser coming back gets the same
/// redirect again (Rafiki replays it too; single use is the client's job).
pub(crate) async fn replay_finish(
    StateExtractor(state): StateExtractor<Arc<State>>,
    Path((id, nonce)): Path<(String, String)>,
    lang: Lang,
    jar: CookieJar,
) -> Response {
    let result = async {
        let grant = find(&state, &id, &nonce, lang).await?;
        check_session(&grant, &jar).map_err(|_| wrong_browser(lang))?;
        Ok::<_, Response>(outcome_redirect(&state, &grant, StatusCode::FOUND, lang))
    }
    .await;
    match result {
        Ok(response) | Err(response) => response,
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct SignInForm {
    password: String,
}

/// How many wrong passwords an interaction takes before it refuses more.
const MAX_SIGN_IN_FAILURES: i32 = 5;

/// `POST {base}/auth/interact/{id}/{nonce}/login`: the owner of the wallet a `subject` grant
/// names signs in (with the account's sandbox password) before they can prove ownership.
pub(crate) async fn sign_in(
    StateExtractor(state): StateExtractor<Arc<State>>,
    Path((id, nonce)): Path<(String, String)>,
    lang: Lang,
    jar: CookieJar,
    Form(form): Form<SignInForm>,
) -> Response {
    match sign_in_inner(&state, &id, &nonce, lang, &jar, &form.password).await {
        Ok(response) | Err(response) => response,
    }
}

async fn sign_in_inner(
    state: &State,
    id: &str,
    nonce: &str,
    lang: Lang,
    jar: &CookieJar,
    password: &str,
) -> Result<Response, Response> {
    let grant = answerable(state, id, nonce, lang, jar).await?;
    let Some(subject) = grant.subject.clone() else {
        return Err(page_error(
            StatusCode::BAD_REQUEST,
            &lang.texts().unknown_request,
            lang,
        ));
    };
    if grant.sign_in_failures >= MAX_SIGN_IN_FAILURES {
        return Err(page_error(
            StatusCode::TOO_MANY_REQUESTS,
            &lang.texts().too_many_attempts,
            lang,
        ));
    }
    let owner = subject_owner(state, &subject)
        .await
        .map_err(|e| internal(&e, lang))?;
    let base = state.interact_url(id_of(&grant), nonce);
    let (finish_action, login_action) = (format!("{base}/finish"), format!("{base}/login"));
    // Compared as digests: the time taken says nothing about the password.
    let right = owner
        .as_ref()
        .is_some_and(|owner| hash(&owner.password) == hash(password));
    if !right {
        grant::Entity::update_many()
            .col_expr(
                grant::Column::SignInFailures,
                sea_orm::sea_query::ExprTrait::add(Expr::col(grant::Column::SignInFailures), 1),
            )
            .filter(grant::Column::Id.eq(grant.id))
            .exec(&state.db)
            .await
            .map_err(|e| internal(&e, lang))?;
        let body = subject_page(
            &grant,
            owner.as_ref(),
            &SubjectStep::SignIn {
                action: &login_action,
                wrong_password: true,
            },
            &finish_action,
            lang,
        );
        return Err(html_response(StatusCode::UNAUTHORIZED, body));
    }
    let session = jar
        .get(SESSION_COOKIE)
        .map(|c| hash(c.value()))
        .unwrap_or_default();
    grant::Entity::update_many()
        .col_expr(grant::Column::SignedInHash, Expr::value(session))
        .filter(grant::Column::Id.eq(grant.id))
        .filter(grant::Column::State.eq(states::PENDING))
        .exec(&state.db)
        .await
        .map_err(|e| internal(&e, lang))?;
    let body = subject_page(
        &grant,
        owner.as_ref(),
        &SubjectStep::Consent,
        &finish_action,
        lang,
    );
    Ok(html_response(StatusCode::OK, body))
}

/// The grant an answer from this browser is for, while it can still be answered; otherwise
/// the response to give: where the first answer went (a double click), or the expiry.
async fn answerable(
    state: &State,
    id: &str,
    nonce: &str,
    lang: Lang,
    jar: &CookieJar,
) -> Result<grant::Model, Response> {
    let grant = find(state, id, nonce, lang).await?;
    check_session(&grant, jar).map_err(|_| wrong_browser(lang))?;
    if grant.state != states::PENDING {
        return Err(outcome_redirect(state, &grant, StatusCode::SEE_OTHER, lang));
    }
    if grant
        .interaction_expires_at
        .is_some_and(|at| at <= state.clock.now())
    {
        return Err(expired(&grant, StatusCode::SEE_OTHER, lang));
    }
    Ok(grant)
}

/// Whether this browser signed in as the owner of the grant's subject.
fn signed_in(grant: &grant::Model, jar: &CookieJar) -> bool {
    match (jar.get(SESSION_COOKIE), &grant.signed_in_hash) {
        (Some(cookie), Some(signed_in)) => hash(cookie.value()) == *signed_in,
        _ => false,
    }
}

/// The sandbox account holding the wallet address `subject`, if it is one of ours.
async fn subject_owner(
    state: &State,
    subject: &str,
) -> Result<Option<account::Model>, sea_orm::DbErr> {
    match state.account_name(subject) {
        Some(name) => account::Entity::find_by_id(name).one(&state.db).await,
        None => Ok(None),
    }
}

/// Where the owner is in proving a wallet.
enum SubjectStep<'a> {
    /// Not signed in yet: the password form (posting to `action`).
    SignIn {
        action: &'a str,
        wrong_password: bool,
    },
    /// Signed in: Approve or Decline.
    Consent,
}

/// The page of a `subject` grant: "prove you own this wallet", after signing in as its owner.
fn subject_page(
    grant: &grant::Model,
    owner: Option<&account::Model>,
    step: &SubjectStep<'_>,
    finish_action: &str,
    lang: Lang,
) -> Markup {
    let texts = lang.texts();
    let client = [("client", grant.client_name.as_str())];
    let wallet = grant.subject.as_deref().unwrap_or_default();
    page(
        texts.prove_title,
        html! {
            p.wallet { (texts.wallet_name) }
            h1 { (texts.prove_title) }
            p { (fill(texts.prove_asks, &client)) }
            dl {
                dt { (texts.who_asks) }
                dd { (grant.client_name) br; span.muted { (grant.client) } }
                dt { (texts.wallet_label) }
                dd { (wallet) }
                @if let Some(owner) = owner {
                    dt { (texts.owner_label) }
                    dd { (owner.public_name) }
                }
            }
            @match (owner, step) {
                (None, _) => {
                    p role="alert" { (texts.not_held_here) }
                    form method="post" action=(finish_action) {
                        div.actions {
                            button.decline type="submit" name="decision" value="decline" { (texts.decline) }
                        }
                    }
                }
                (Some(_), SubjectStep::SignIn { action, wrong_password }) => {
                    p { (texts.sign_in_first) }
                    @if *wrong_password {
                        p.error role="alert" { (texts.wrong_password) }
                    }
                    form method="post" action=(action) {
                        label for="password" { (texts.password_label) }
                        input #password type="password" name="password" autocomplete="current-password" required;
                        div.actions {
                            button.approve type="submit" { (texts.sign_in) }
                        }
                    }
                    form method="post" action=(finish_action) {
                        div.actions {
                            button.decline type="submit" name="decision" value="decline" { (texts.decline) }
                        }
                    }
                }
                (Some(owner), SubjectStep::Consent) => {
                    p.wallet { (texts.signed_in_as) " " strong { (owner.public_name) } }
                    form method="post" action=(finish_action) {
                        div.actions {
                            button.approve type="submit" name="decision" value="approve" { (texts.approve) }
                            button.decline type="submit" name="decision" value="decline" { (texts.decline) }
                        }
                    }
                    p.muted { (fill(texts.prove_note, &client)) }
                }
            }
        },
        lang,
    )
}

fn outcome_redirect(
    state: &State,
    grant: &grant::Model,
    status: StatusCode,
    lang: Lang,
) -> Response {
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
                lang,
            )
        }
        (states::REJECTED, _) => {
            finish_redirect(grant, &[("result", "grant_rejected")], status, lang)
        }
        (states::REVOKED, _) => finish_redirect(
            grant,
            &[
                ("result", "unknown_interaction"),
                ("message", "unknown interaction"),
            ],
            status,
            lang,
        ),
        _ => finish_redirect(grant, &[("result", "grant_invalid")], status, lang),
    }
}

fn expired(grant: &grant::Model, status: StatusCode, lang: Lang) -> Response {
    finish_redirect(
        grant,
        &[
            ("result", "invalid_interaction"),
            ("message", "interaction expired"),
        ],
        status,
        lang,
    )
}

/// Redirects to the client's finish URI with `params` set (replacing any of the same name, as
/// Rafiki's `URLSearchParams.set` does). The protocol's own words (`message`) stay English.
fn finish_redirect(
    grant: &grant::Model,
    params: &[(&str, &str)],
    status: StatusCode,
    lang: Lang,
) -> Response {
    let Some(mut uri) = grant
        .finish_uri
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
    else {
        return page_error(
            StatusCode::BAD_REQUEST,
            &lang.texts().nowhere_to_return,
            lang,
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

async fn find(state: &State, id: &str, nonce: &str, lang: Lang) -> Result<grant::Model, Response> {
    let unknown = || page_error(StatusCode::NOT_FOUND, &lang.texts().unknown_request, lang);
    let id = Uuid::parse_str(id).map_err(|_| unknown())?;
    grant::Entity::find()
        .filter(grant::Column::InteractId.eq(id))
        .one(&state.db)
        .await
        .map_err(|e| internal(&e, lang))?
        .filter(|g| g.interact_nonce.as_deref() == Some(nonce))
        .ok_or_else(unknown)
}

/// The interaction was answered from a browser without its session cookie.
#[derive(Debug)]
struct InvalidSession;

fn wrong_browser(lang: Lang) -> Response {
    page_error(StatusCode::UNAUTHORIZED, &lang.texts().wrong_browser, lang)
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

async fn describe(
    state: &State,
    grant: &grant::Model,
    lang: Lang,
) -> Result<Details, sea_orm::DbErr> {
    let texts = lang.texts();
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
                    (Some(debit), _) => fill(texts.up_to, &[("amount", &amount_text(debit, lang))]),
                    (None, Some(receive)) => fill(
                        texts.enough_to_deliver,
                        &[("amount", &amount_text(receive, lang))],
                    ),
                    (None, None) => texts.no_limit.to_owned(),
                };
                let to = match &limits.receiver {
                    Some(receiver) => Some(describe_receiver(state, receiver, lang).await?),
                    None => Some(texts.anyone.to_owned()),
                };
                Line {
                    what: texts.send_payment.into(),
                    amount: Some(amount),
                    to,
                }
            }
            Access::IncomingPayment { actions, .. } => Line {
                what: fill(
                    texts.incoming_payments,
                    &[("actions", &action_words(actions, lang))],
                ),
                amount: None,
                to: None,
            },
            Access::Quote { actions, .. } => Line {
                what: fill(texts.quotes, &[("actions", &action_words(actions, lang))]),
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

async fn describe_receiver(
    state: &State,
    receiver: &str,
    lang: Lang,
) -> Result<String, sea_orm::DbErr> {
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
        .map(|d| {
            format!(
                " {}",
                fill(lang.texts().for_description, &[("description", d)])
            )
        })
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

fn amount_text(amount: &Amount, lang: Lang) -> String {
    lang.amount(
        amount.value,
        Asset {
            code: &amount.asset_code,
            scale: amount.asset_scale,
        },
    )
}

fn action_words(actions: &[AccessAction], lang: Lang) -> String {
    actions
        .iter()
        .map(|a| lang.action(a))
        .collect::<Vec<_>>()
        .join(", ")
}

fn consent_page(grant: &grant::Model, details: &Details, form_action: &str, lang: Lang) -> Markup {
    let texts = lang.texts();
    let client = [("client", grant.client_name.as_str())];
    let payer_name = details
        .payer
        .as_ref()
        .map_or(details.payer_url.as_str(), |p| p.public_name.as_str());
    let balance = details.payer.as_ref().map(|p| {
        lang.amount(
            u64::try_from(p.balance).unwrap_or(0),
            Asset {
                code: &p.asset_code,
                scale: u8::try_from(p.asset_scale).unwrap_or(0),
            },
        )
    });
    page(
        &fill(texts.asks_approval, &client),
        html! {
            p.wallet { (texts.wallet_name) " \u{b7} " (texts.signed_in_as) " " strong { (payer_name) } " (" (details.payer_url) ")" }
            h1 { (fill(texts.asks_to_pay, &client)) }
            dl {
                dt { (texts.who_asks) }
                dd { (grant.client_name) br; span.muted { (grant.client) } }
                @for line in &details.lines {
                    dt { (texts.access) }
                    dd { (line.what) }
                    @if let Some(amount) = &line.amount {
                        dt { (texts.amount) }
                        dd.amount { (amount) }
                    }
                    @if let Some(to) = &line.to {
                        dt { (texts.to) }
                        dd { (to) }
                    }
                }
                @if let Some(balance) = &balance {
                    dt { (texts.your_balance) }
                    dd { (balance) }
                }
            }
            form method="post" action=(form_action) {
                div.actions {
                    button.approve type="submit" name="decision" value="approve" { (texts.approve) }
                    button.decline type="submit" name="decision" value="decline" { (texts.decline) }
                }
            }
            p.muted { (fill(texts.approve_note, &client)) }
        },
        lang,
    )
}

fn page(title: &str, content: Markup, lang: Lang) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " \u{2013} " (lang.texts().wallet_name) }
                style { (maud::PreEscaped(STYLE)) }
            }
            body { main { (content) } }
        }
    }
}

fn page_error(status: StatusCode, notice: &Notice, lang: Lang) -> Response {
    html_response(
        status,
        page(
            notice.title,
            html! {
                h1 { (notice.title) }
                p { (notice.text) }
            },
            lang,
        ),
    )
}

fn internal(cause: &dyn std::fmt::Display, lang: Lang) -> Response {
    tracing::error!(error = %cause, "sandbox consent page failed");
    page_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        &lang.texts().internal,
        lang,
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
    // The page's language follows the browser's Accept-Language.
    headers.insert(header::VARY, HeaderValue::from_static("accept-language"));
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
