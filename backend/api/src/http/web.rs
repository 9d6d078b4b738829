//! Serving the built web app (Trunk's output) with an `index.html` fallback for client-side
//! routes, and the Content-Security-Policy that fits it.

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use sha2::{Digest, Sha256};
use shifting_shared::RoomCode;
use shifting_shared::api::RoomResponse;
use tower_http::services::{ServeDir, ServeFile};

use crate::error::ApiError;
use crate::state::AppState;

/// The web app on disk, if it was built.
#[derive(Debug)]
pub struct WebApp {
    dir: PathBuf,
    /// `index.html`, when the app is built.
    index: Option<Arc<str>>,
    csp: HeaderValue,
}

impl WebApp {
    /// Looks for `index.html` in `dir` and derives the CSP from it.
    #[must_use]
    pub fn load(dir: &FsPath) -> Self {
        let index = std::fs::read_to_string(dir.join("index.html"));
        if index.is_err() {
            tracing::warn!(
                dir = %dir.display(),
                "the web app is not built; only the API is served (build it with `scripts/run.sh` or `trunk build`)"
            );
        }
        let hashes = index
            .as_deref()
            .map(inline_script_hashes)
            .unwrap_or_default();
        Self {
            dir: dir.to_owned(),
            csp: content_security_policy(&hashes),
            index: index.ok().map(Arc::from),
        }
    }

    /// The `Content-Security-Policy` for every response.
    #[must_use]
    pub fn content_security_policy(&self) -> HeaderValue {
        self.csp.clone()
    }

    /// Adds the web app as the router's fallback: files from the build directory, and
    /// `index.html` for every other path so client-side routes load the app. A shared room link
    /// (`/r/{code}`) gets `index.html` with the room's link preview in its head.
    pub fn attach(&self, router: Router, state: AppState) -> Router {
        if let Some(index) = &self.index {
            let spa = tower::ServiceBuilder::new()
                .layer(axum::middleware::from_fn(cache_control))
                .service(
                    ServeDir::new(&self.dir).fallback(ServeFile::new(self.dir.join("index.html"))),
                );
            let previews = Router::new()
                .route("/r/{code}", get(room_page))
                .with_state(RoomPage {
                    state,
                    index: index.clone(),
                });
            router.merge(previews).fallback_service(spa)
        } else {
            router.fallback(|| async {
                ApiError::NotFound("Not found (the web app is not built on this server).")
            })
        }
    }
}

/// What a room link's page needs: the room views and the app's `index.html`.
#[derive(Clone)]
struct RoomPage {
    state: AppState,
    index: Arc<str>,
}

/// `index.html` for a shared room link, with Open Graph and Twitter Card tags (name, price,
/// seller, description) in its head so chat apps and social sites show a preview; the app then
/// loads as on any other path. An unknown room gets the plain page with a 404.
async fn room_page(State(page): State<RoomPage>, Path(code): Path<String>) -> Response {
    let state = &page.state;
    let view = match RoomCode::parse(&code) {
        Ok(code) => {
            state
                .room_views
                .get(&state.db, &code, &state.public_url)
                .await
        }
        Err(_) => Err(ApiError::NotFound("No room has this code.")),
    };
    let (status, html) = match view.map(|view| serde_json::from_slice::<RoomResponse>(&view)) {
        Ok(Ok(room)) => (StatusCode::OK, with_preview(&page.index, &room)),
        Err(ApiError::NotFound(_)) => (StatusCode::NOT_FOUND, page.index.to_string()),
        // Trouble on our side is no reason to tell a crawler the room does not exist: the page
        // loads without a preview.
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "a room view does not decode for its preview");
            (StatusCode::OK, page.index.to_string())
        }
        Err(err) => {
            tracing::warn!(error = %err, "no room view for a link preview");
            (StatusCode::OK, page.index.to_string())
        }
    };
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        html,
    )
        .into_response()
}

/// The most characters of a description a preview shows.
const PREVIEW_CHARS: usize = 200;

/// `index` with the room's title and preview tags, every value escaped by maud.
fn with_preview(index: &str, room: &RoomResponse) -> String {
    let title = format!("{} · {}", room.name, room.price_display);
    let mut description = format!("Sold by {} on Shifting.", room.seller.username);
    if !room.description.is_empty() {
        let text: String = room
            .description
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let mut short: String = text.chars().take(PREVIEW_CHARS).collect();
        if short.len() < text.len() {
            short.push('…');
        }
        description = format!("{short} {description}");
    }
    let image = room.images.first();
    let tags = maud::html! {
        meta property="og:type" content="website";
        meta property="og:site_name" content="Shifting";
        meta property="og:title" content=(title);
        meta property="og:description" content=(description);
        meta property="og:url" content=(room.share_url);
        @if let Some(image) = image {
            meta property="og:image" content=(image.url);
            meta property="og:image:width" content=(image.width);
            meta property="og:image:height" content=(image.height);
            meta property="og:image:alt" content=(room.name);
            meta name="twitter:card" content="summary_large_image";
            meta name="twitter:image" content=(image.url);
        } @else {
            meta name="twitter:card" content="summary";
        }
        meta name="twitter:title" content=(title);
        meta name="twitter:description" content=(description);
        meta name="description" content=(description);
    }
    .into_string();
    let page_title = maud::html! { title { (room.name) " · Shifting" } }.into_string();
    let index = index.replacen("<title>Shifting</title>", &page_title, 1);
    match index.find("</head>") {
        Some(at) => format!("{}{tags}{}", &index[..at], &index[at..]),
        None => index,
    }
}

/// Caching for the web app's files: Trunk names the script, wasm and style files after a hash
/// of their content, so they never change and may be kept for a year; everything else (the
/// `index.html` that names them) is revalidated on every load, so a deploy shows at once.
async fn cache_control(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let hashed = is_hashed_asset(request.uri().path());
    let mut response = next.run(request).await;
    if response.status().is_success() {
        let value = if hashed {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    response
}

/// Whether a path names a content-hashed file such as `/shifting-web-5522f9252423397b_bg.wasm`.
fn is_hashed_asset(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let Some((stem, _extension)) = name.rsplit_once('.') else {
        return false;
    };
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `'sha256-…'` sources for each inline `<script>` (Trunk's wasm loader is one).
fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(tag_end) = after.find('>') else {
            break;
        };
        let tag = &after[..tag_end];
        let body_start = tag_end + 1;
        let Some(body_len) = after[body_start..].find("</script>") else {
            break;
        };
        let body = &after[body_start..body_start + body_len];
        if !tag.contains(" src=") && !body.trim().is_empty() {
            let digest = Sha256::digest(body.as_bytes());
            hashes.push(format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        rest = &after[body_start + body_len..];
    }
    hashes
}

fn content_security_policy(script_hashes: &[String]) -> HeaderValue {
    let scripts = std::iter::once("'self' 'wasm-unsafe-eval'".to_owned())
        .chain(script_hashes.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    let policy = format!(
        "default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
         connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'"
    );
    // Hashes are base64 and the rest is ASCII, so this is always a valid header value.
    HeaderValue::from_str(&policy)
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_trunks_content_hashed_files_are_cached_for_long() {
        for hashed in [
            "/shifting-web-5522f9252423397b_bg.wasm",
            "/shifting-web-5522f9252423397b.js",
            "/style-1c07a2cb6b49e734.css",
        ] {
            assert!(is_hashed_asset(hashed), "{hashed}");
        }
        for plain in [
            "/",
            "/index.html",
            "/r/K7M2QX",
            "/app.js",
            "/style-1c07a2cb.css",
            "/x-1c07a2cb6b49e7zz.css",
        ] {
            assert!(!is_hashed_asset(plain), "{plain}");
        }
    }

    #[test]
    fn inline_scripts_are_hashed_and_external_ones_are_not() {
        let html = r#"<html><script src="/a.js"></script><script type="module">import init from '/x.js';</script></html>"#;
        let hashes = inline_script_hashes(html);
        assert_eq!(hashes.len(), 1);
        let expected = base64::engine::general_purpose::STANDARD
            .encode(Sha256::digest(b"import init from '/x.js';"));
        assert_eq!(hashes[0], format!("'sha256-{expected}'"));
        let csp = content_security_policy(&hashes);
        assert!(csp.to_str().unwrap().contains(&expected));
        assert!(csp.to_str().unwrap().contains("frame-ancestors 'none'"));
    }
}
