//! The local mailbox: with no SMTP server configured (sandbox mode only), delivered mail is
//! kept in the database and shown at `/sandbox/mail`, like a development mail catcher, so the
//! whole product (sign-up confirmation, password reset, receipts) runs on one machine.
//!
//! - `GET /sandbox/mail` (`?to=` filters by recipient): newest first;
//! - `GET /sandbox/mail/{id}`: headers, the text part with its links, links to the rest;
//! - `GET /sandbox/mail/{id}/html`: the HTML part as a mail program would show it;
//! - `GET /sandbox/mail/{id}/raw`: the message as it would have gone over SMTP.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{DOCTYPE, Markup, html};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;

use crate::entities::sandbox_mail;

/// How many mails the list shows.
const LIST: u64 = 100;

/// The mailbox's routes, relative to the sandbox's mount path (`/mail` …).
pub fn router(db: DatabaseConnection) -> Router {
    Router::new()
        .route("/mail", get(list))
        .route("/mail/{id}", get(show))
        .route("/mail/{id}/html", get(html_part))
        .route("/mail/{id}/raw", get(raw))
        .with_state(db)
}

/// `?to=`.
#[derive(Debug, Deserialize)]
struct ListQuery {
    to: Option<String>,
}

async fn list(State(db): State<DatabaseConnection>, Query(query): Query<ListQuery>) -> Response {
    let mut find = sandbox_mail::Entity::find()
        .select_only()
        .columns([
            sandbox_mail::Column::Id,
            sandbox_mail::Column::Recipient,
            sandbox_mail::Column::Subject,
            sandbox_mail::Column::CreatedAt,
        ])
        .order_by_desc(sandbox_mail::Column::Id)
        .limit(LIST);
    let to = query
        .to
        .map(|to| to.trim().to_lowercase())
        .filter(|to| !to.is_empty());
    if let Some(to) = &to {
        find = find.filter(sandbox_mail::Column::Recipient.eq(to.as_str()));
    }
    let rows: Vec<(i64, String, String, chrono::DateTime<chrono::Utc>)> =
        match find.into_tuple().all(&db).await {
            Ok(rows) => rows,
            Err(err) => return failure(&err),
        };
    page(
        StatusCode::OK,
        "Mailbox",
        html! {
            h1 { "Mailbox" }
            p.muted {
                "Mail the product sent while no SMTP server is configured (sandbox mode). "
                @if let Some(to) = &to { "Only mail to " strong { (to) } ". " a href="mail" { "Show all" } }
            }
            @if rows.is_empty() {
                p { "No mail yet." }
            } @else {
                ol.mails {
                    @for (id, recipient, subject, at) in &rows {
                        li {
                            a href=(format!("mail/{id}")) data-subject=(subject) { (subject) }
                            span.muted { " to " (recipient) " · " time datetime=(at.to_rfc3339()) { (at.format("%Y-%m-%d %H:%M:%S UTC")) } }
                        }
                    }
                }
            }
        },
    )
}

async fn find(db: &DatabaseConnection, id: i64) -> Result<sandbox_mail::Model, Response> {
    match sandbox_mail::Entity::find_by_id(id).one(db).await {
        Ok(Some(mail)) => Ok(mail),
        Ok(None) => Err(page(
            StatusCode::NOT_FOUND,
            "No such mail",
            html! { h1 { "No such mail" } p { a href="../mail" { "Back to the mailbox" } } },
        )),
        Err(err) => Err(failure(&err)),
    }
}

async fn show(State(db): State<DatabaseConnection>, Path(id): Path<i64>) -> Response {
    let mail = match find(&db, id).await {
        Ok(mail) => mail,
        Err(response) => return response,
    };
    let parts = Parts::of(&mail.raw);
    page(
        StatusCode::OK,
        &mail.subject,
        html! {
            p { a href="../mail" { "← Mailbox" } }
            h1 { (mail.subject) }
            dl {
                @for (name, value) in &parts.headers {
                    dt { (name) } dd { (value) }
                }
            }
            h2 { "Text part" }
            div.text { (linked(&parts.text)) }
            p {
                a href=(format!("{id}/html")) { "View the HTML part" }
                " · "
                a href=(format!("{id}/raw")) { "View the raw message" }
            }
            @if !parts.attachments.is_empty() {
                h2 { "Attachments" }
                ul { @for name in &parts.attachments { li { (name) } } }
            }
        },
    )
}

async fn html_part(State(db): State<DatabaseConnection>, Path(id): Path<i64>) -> Response {
    let mail = match find(&db, id).await {
        Ok(mail) => mail,
        Err(response) => return response,
    };
    let mut response = (StatusCode::OK, Parts::of(&mail.raw).html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // A mail's HTML runs nothing and loads nothing, as in a careful mail program.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn raw(State(db): State<DatabaseConnection>, Path(id): Path<i64>) -> Response {
    match find(&db, id).await {
        Ok(mail) => {
            let mut response = (StatusCode::OK, mail.raw).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            response
        }
        Err(response) => response,
    }
}

/// What the mailbox shows of a message.
#[derive(Debug, Default)]
struct Parts {
    headers: Vec<(String, String)>,
    text: String,
    html: String,
    attachments: Vec<String>,
}

impl Parts {
    const SHOWN: [&'static str; 7] = [
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "Content-Language",
        "List-Unsubscribe",
    ];

    fn of(raw: &str) -> Self {
        let Ok(parsed) = mailparse::parse_mail(raw.as_bytes()) else {
            return Self {
                text: raw.to_owned(),
                ..Self::default()
            };
        };
        let mut parts = Self::default();
        for name in Self::SHOWN {
            if let Some(value) = parsed
                .headers
                .iter()
                .find(|h| h.get_key_ref().eq_ignore_ascii_case(name))
            {
                parts.headers.push((name.to_owned(), value.get_value()));
            }
        }
        parts.collect(&parsed);
        parts
    }

    fn collect(&mut self, part: &mailparse::ParsedMail<'_>) {
        if !part.subparts.is_empty() {
            for sub in &part.subparts {
                self.collect(sub);
            }
            return;
        }
        let disposition = part.get_content_disposition();
        if let Some(name) = disposition.params.get("filename") {
            self.attachments.push(name.clone());
            return;
        }
        match part.ctype.mimetype.as_str() {
            "text/plain" if self.text.is_empty() => self.text = part.get_body().unwrap_or_default(),
            "text/html" if self.html.is_empty() => self.html = part.get_body().unwrap_or_default(),
            _ => {}
        }
    }
}

/// Text with its `http(s)://` addresses as links, line breaks kept.
fn linked(text: &str) -> Markup {
    html! {
        @for line in text.lines() {
            @for (i, word) in line.split(' ').enumerate() {
                @if i > 0 { " " }
                @if word.starts_with("https://") || word.starts_with("http://") {
                    a href=(word) { (word) }
                } @else {
                    (word)
                }
            }
            br;
        }
    }
}

const STYLE: &str = "\
*{box-sizing:border-box}\
body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;background:#f4f1ea;color:#1d1d1f}\
main{max-width:48rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:12px;box-shadow:0 1px 4px #0002}\
h1{font-size:1.4rem;line-height:1.3;margin:0 0 1rem;overflow-wrap:anywhere}h2{font-size:1.1rem}\
a{color:#1d4d3a}a:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}\
.muted{color:#4a4a4a;font-size:.875rem}\
.mails{padding-left:1.25rem}.mails li{margin:0 0 .75rem;overflow-wrap:anywhere}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}\
.text{font-family:ui-monospace,monospace;font-size:.9rem;background:#f4f1ea;padding:1rem;border-radius:8px;overflow-wrap:anywhere}\
@media (max-width:420px){main{margin:0;border-radius:0}dl{grid-template-columns:1fr}}";

fn page(status: StatusCode, title: &str, content: Markup) -> Response {
    let body: Markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " – Shifting sandbox mail" }
                style { (maud::PreEscaped(STYLE)) }
            }
            body { main { (content) } }
        }
    };
    let mut response = (status, body.into_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ),
    );
    response
}

fn failure(err: &sea_orm::DbErr) -> Response {
    tracing::error!(error = %err, "the local mailbox cannot be read");
    page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Mailbox unavailable",
        html! { h1 { "Mailbox unavailable" } p { "The mailbox cannot be read right now." } },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_in_the_text_part_become_links_and_the_rest_is_escaped() {
        let markup = linked("Open https://x.example/reset#token=a1\n<b>bold</b>").into_string();
        assert!(
            markup.contains("<a href=\"https://x.example/reset#token=a1\">"),
            "{markup}"
        );
        assert!(markup.contains("&lt;b&gt;bold&lt;/b&gt;"), "{markup}");
    }
}
