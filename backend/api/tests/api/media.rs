//! Room pictures, delivery files and PDF receipts: what a seller may upload and what is
//! refused, what anyone may see, and what only the buyer of a completed payment may download.

use std::io::Cursor;

use futures::future::join_all;
use image::{ImageFormat, Rgb, RgbImage};
use reqwest::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, Trader, error_of, spawn_app, spawn_app_with};

/// A `width` × `height` PNG photo.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    })
    .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
    .expect("png");
    bytes
}

impl TestApp {
    /// Uploads `bytes` as a picture of room `code` with the media type `mime`.
    pub async fn upload_image(
        &self,
        token: &str,
        code: &str,
        mime: &str,
        bytes: Vec<u8>,
    ) -> Response {
        self.client
            .post(self.url(&format!("/api/rooms/{code}/images")))
            .bearer_auth(token)
            .header(CONTENT_TYPE, mime)
            .body(bytes)
            .send()
            .await
            .expect("request")
    }

    /// Attaches `bytes` as room `code`'s delivery file named `name`.
    pub async fn upload_file(
        &self,
        token: &str,
        code: &str,
        name: &str,
        bytes: Vec<u8>,
    ) -> Response {
        self.client
            .put(
                reqwest::Url::parse_with_params(
                    &self.url(&format!("/api/rooms/{code}/delivery-file")),
                    [("name", name)],
                )
                .expect("a url"),
            )
            .bearer_auth(token)
            .header(CONTENT_TYPE, "application/pdf")
            .body(bytes)
            .send()
            .await
            .expect("request")
    }

    /// `GET path` with the purchase key `key`.
    pub async fn get_with_key(&self, path: &str, key: &str) -> Response {
        self.client
            .get(self.url(path))
            .header("X-Guest-Key", key)
            .send()
            .await
            .expect("request")
    }
}

fn media_files(app: &TestApp) -> usize {
    fn count(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |entries| {
            entries
                .flatten()
                .map(|entry| {
                    let path = entry.path();
                    if path.is_dir() { count(&path) } else { 1 }
                })
                .sum()
        })
    }
    count(&app.data_dir().join("media"))
}

async fn seller_room(app: &TestApp) -> (Trader, String) {
    let seller = app.trader("alice", "alice").await;
    let code = app.room(&seller, "25.00").await;
    (seller, code)
}

#[tokio::test]
async fn pictures_are_re_encoded_scaled_served_and_at_most_four() {
    let app = spawn_app().await;
    let (seller, code) = seller_room(&app).await;
    let token = &seller.account.access_token;
    let response = app
        .upload_image(token, &code, "image/png", png(2000, 1000))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let room: Value = response.json().await.expect("json");
    let image = &room["images"][0];
    assert_eq!(
        (image["width"].as_u64(), image["height"].as_u64()),
        (Some(1600), Some(800))
    );
    let url = image["url"].as_str().expect("a url").to_owned();
    assert_eq!(
        url,
        app.url(&format!(
            "/api/rooms/{code}/images/{}",
            image["id"].as_str().unwrap()
        ))
    );

    // Anyone sees it, as a JPEG written by us, cached for good; the thumbnail is smaller.
    let served = app.client.get(&url).send().await.expect("picture");
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()[CONTENT_TYPE], "image/jpeg");
    assert_eq!(served.headers()[CACHE_CONTROL], "public, max-age=300");
    let etag = served.headers()["etag"].clone();
    let bytes = served.bytes().await.expect("bytes");
    let again = app
        .client
        .get(&url)
        .header("if-none-match", etag.clone())
        .send()
        .await
        .expect("revalidation");
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let decoded = image::load_from_memory(&bytes).expect("a picture");
    assert_eq!((decoded.width(), decoded.height()), (1600, 800));
    let thumbnail = app
        .client
        .get(image["thumbnail_url"].as_str().expect("a thumbnail"))
        .send()
        .await
        .expect("thumbnail")
        .bytes()
        .await
        .expect("bytes");
    let decoded = image::load_from_memory(&thumbnail).expect("a picture");
    assert_eq!((decoded.width(), decoded.height()), (480, 240));
    assert_eq!(
        app.public_room(&code).await["images"][0]["url"],
        url.as_str()
    );

    for _ in 0..3 {
        assert_eq!(
            app.upload_image(token, &code, "image/png", png(40, 40))
                .await
                .status(),
            StatusCode::CREATED
        );
    }
    let error = error_of(
        app.upload_image(token, &code, "image/png", png(40, 40))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(error["field_codes"]["image"], "too_many_images", "{error}");
    assert_eq!(media_files(&app), 8, "two sizes of four pictures");

    // Nobody but the seller changes them.
    let bruno = app.create_account("bruno").await;
    error_of(
        app.upload_image(&bruno.access_token, &code, "image/png", png(40, 40))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let removed = app
        .send_json(
            Method::DELETE,
            &format!("/api/rooms/{code}/images/{}", image["id"].as_str().unwrap()),
            &bruno.access_token,
            &json!({}),
        )
        .await;
    error_of(removed, StatusCode::FORBIDDEN).await;

    let response = app
        .client
        .delete(app.url(&format!(
            "/api/rooms/{code}/images/{}",
            image["id"].as_str().unwrap()
        )))
        .bearer_auth(token)
        .send()
        .await
        .expect("delete");
    assert_eq!(response.status(), StatusCode::OK);
    let room: Value = response.json().await.expect("json");
    assert_eq!(room["images"].as_array().map(Vec::len), Some(3));
    // A removed picture is gone, also for a cache that asks whether its copy still holds.
    error_of(
        app.client
            .get(&url)
            .header("if-none-match", etag.clone())
            .send()
            .await
            .expect("gone"),
        StatusCode::NOT_FOUND,
    )
    .await;
    error_of(
        app.client
            .get(app.url(&format!("/api/rooms/{code}/images/not-an-id")))
            .send()
            .await
            .expect("bad id"),
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn uploads_that_are_not_pictures_we_take_are_refused_and_nothing_is_kept() {
    let app = spawn_app_with(|s| s.media.image_max_bytes = 64 * 1024).await;
    let (seller, code) = seller_room(&app).await;
    let token = &seller.account.access_token;
    error_of(
        app.upload_image(token, &code, "text/plain", png(10, 10))
            .await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    let photo = png(64, 64);
    for (bytes, code_expected) in [
        (b"%PDF-1.7 a document".to_vec(), "image_type"),
        (
            b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec(),
            "image_type",
        ),
        (photo[..photo.len() / 2].to_vec(), "image_unreadable"),
        (
            shifting_testkit::claimed_png(20_000, 20_000),
            "image_too_many_pixels",
        ),
    ] {
        let error = error_of(
            app.upload_image(token, &code, "image/png", bytes).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(error["field_codes"]["image"], code_expected, "{error}");
    }
    // Larger than the limit: refused while reading.
    error_of(
        app.upload_image(token, &code, "image/jpeg", vec![0xFF; 70 * 1024])
            .await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert_eq!(app.public_room(&code).await["images"], json!([]));
    assert_eq!(media_files(&app), 0);
}

#[tokio::test]
async fn racing_uploads_never_give_a_room_a_fifth_picture() {
    let app = spawn_app().await;
    let (seller, code) = seller_room(&app).await;
    let token = &seller.account.access_token;
    let answers =
        join_all((0..6).map(|_| app.upload_image(token, &code, "image/png", png(24, 24)))).await;
    let created = answers
        .iter()
        .filter(|r| r.status() == StatusCode::CREATED)
        .count();
    let refused = answers
        .iter()
        .filter(|r| r.status() == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, refused), (4, 2));
    assert_eq!(
        app.public_room(&code).await["images"]
            .as_array()
            .map(Vec::len),
        Some(4)
    );
}

/// A completed purchase of `code` by bruno; returns (buyer, transaction id).
async fn completed_purchase(app: &TestApp, code: &str) -> (Trader, String) {
    let buyer = app.trader("bruno", "bruno").await;
    let id = app.buy(&buyer, code).await;
    app.wait_for_status(&buyer.account.access_token, &id, "completed")
        .await;
    (buyer, id)
}

#[tokio::test]
async fn only_the_buyer_of_a_completed_payment_downloads_the_file_and_only_as_an_attachment() {
    let app = spawn_app().await;
    let (seller, code) = seller_room(&app).await;
    let token = &seller.account.access_token;
    let notes = b"<html><script>alert(1)</script>lesson notes</html>".to_vec();
    let response = app
        .upload_file(token, &code, "../Notas de la lección.html", notes.clone())
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let file: Value = response.json().await.expect("json");
    assert_eq!(
        file,
        json!({"name": "Notas de la lección.html", "size": notes.len(), "content_type": "application/pdf"})
    );
    let own: Value = app
        .get_authed("/api/rooms", token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        own["rooms"][0]["delivery_file"]["name"],
        "Notas de la lección.html"
    );
    assert!(app.public_room(&code).await.get("delivery_file").is_none());

    // Before completion there is nothing to download.
    let buyer = app.trader("bruno", "bruno").await;
    let started = app.checkout(&buyer, &code).await;
    let pending = started["transaction"]["id"].as_str().expect("an id");
    error_of(
        app.get_authed(
            &format!("/api/transactions/{pending}/delivery-file"),
            &buyer.account.access_token,
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;

    let id = {
        let id = app.buy(&buyer, &code).await;
        app.wait_for_status(&buyer.account.access_token, &id, "completed")
            .await;
        id
    };
    let seen = app.transaction(&buyer.account.access_token, &id).await;
    assert_eq!(seen["delivery_file"]["name"], "Notas de la lección.html");
    let download = app
        .get_authed(
            &format!("/api/transactions/{id}/delivery-file"),
            &buyer.account.access_token,
        )
        .await;
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()[CONTENT_TYPE], "application/octet-stream");
    assert_eq!(
        download.headers()[CONTENT_DISPOSITION],
        "attachment; filename=\"Notas de la lecci_n.html\"; filename*=UTF-8''Notas%20de%20la%20lecci%C3%B3n.html"
    );
    assert_eq!(download.bytes().await.expect("bytes").as_ref(), &notes[..]);
    // Not the seller's to download, nor anyone else's, and never without credentials.
    for other in [
        token.as_str(),
        &app.create_account("carla").await.access_token,
    ] {
        error_of(
            app.get_authed(&format!("/api/transactions/{id}/delivery-file"), other)
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    error_of(
        app.client
            .get(app.url(&format!("/api/transactions/{id}/delivery-file")))
            .send()
            .await
            .expect("request"),
        StatusCode::UNAUTHORIZED,
    )
    .await;

    // A replaced file is what the next download gets; a removed one is gone.
    let response = app
        .upload_file(token, &code, "notes-v2.pdf", b"%PDF-1.7 v2".to_vec())
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let download = app
        .get_authed(
            &format!("/api/transactions/{id}/delivery-file"),
            &buyer.account.access_token,
        )
        .await;
    assert_eq!(
        download.bytes().await.expect("bytes").as_ref(),
        b"%PDF-1.7 v2"
    );
    let response = app
        .client
        .delete(app.url(&format!("/api/rooms/{code}/delivery-file")))
        .bearer_auth(token)
        .send()
        .await
        .expect("delete");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    error_of(
        app.get_authed(
            &format!("/api/transactions/{id}/delivery-file"),
            &buyer.account.access_token,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn delivery_files_are_checked() {
    let app = spawn_app_with(|s| s.media.delivery_file_max_bytes = 4096).await;
    let (seller, code) = seller_room(&app).await;
    let token = &seller.account.access_token;
    error_of(
        app.upload_file(token, &code, "big.bin", vec![1; 5000])
            .await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    for (name, field) in [
        ("", "name"),
        ("a\u{7}b.txt", "name"),
        ("../", "name"),
        // Shows as "reportexe.pdf".
        ("report\u{202E}fdp.exe", "name"),
    ] {
        let error = error_of(
            app.upload_file(token, &code, name, b"x".to_vec()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(error["fields"].get(field).is_some(), "{name:?}: {error}");
    }
    error_of(
        app.upload_file(token, &code, "empty.txt", Vec::new()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let bruno = app.create_account("bruno").await;
    error_of(
        app.upload_file(&bruno.access_token, &code, "x.txt", b"x".to_vec())
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // Refused before its body is read: too large for anyone, but the answer is who may upload.
    error_of(
        app.upload_file(&bruno.access_token, &code, "x.txt", vec![1; 5000])
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let response = app
        .client
        .delete(app.url(&format!("/api/rooms/{code}/delivery-file")))
        .bearer_auth(token)
        .send()
        .await
        .expect("delete");
    error_of(response, StatusCode::NOT_FOUND).await;
    assert_eq!(media_files(&app), 0);
}

/// The text of a PDF's first page.
fn pdf_text(bytes: &[u8]) -> String {
    let document = lopdf::Document::load_mem(bytes).expect("a PDF");
    assert_eq!(document.get_pages().len(), 1);
    let text = document.extract_text(&[1]).expect("text");
    text.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn a_completed_payment_has_a_pdf_receipt_for_its_buyer_guest_and_seller() {
    let app = spawn_app().await;
    let (seller, code) = seller_room(&app).await;
    let (buyer, id) = completed_purchase(&app, &code).await;
    let view = app.transaction(&buyer.account.access_token, &id).await;
    let number = view["receipt_number"]
        .as_str()
        .expect("a number")
        .to_owned();

    let response = app
        .get_authed(
            &format!("/api/transactions/{id}/receipt.pdf"),
            &buyer.account.access_token,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/pdf");
    assert_eq!(
        response.headers()[CONTENT_DISPOSITION],
        format!("attachment; filename=\"{number}.pdf\"").as_str()
    );
    let text = pdf_text(&response.bytes().await.expect("bytes"));
    for expected in [
        "Receipt",
        number.as_str(),
        "Guitar lesson",
        "alice",
        "bruno",
        "Seller received\n25.00 USD",
        "Buyer paid\n23.15 EUR",
        "1 USD = 0.9260 EUR",
        view["evidence"]["incoming_payment"]
            .as_str()
            .expect("evidence")
            .split('/')
            .next_back()
            .expect("an id"),
    ] {
        assert!(text.contains(expected), "{expected:?} is not in {text:?}");
    }
    // In Spanish on request; the seller gets it too. The font is subset: a page of text, not
    // a whole typeface.
    let spanish = app
        .get_authed(
            &format!("/api/transactions/{id}/receipt.pdf?lang=es"),
            &seller.account.access_token,
        )
        .await
        .bytes()
        .await
        .expect("bytes");
    let text = pdf_text(&spanish);
    assert!(
        text.contains("Recibo") && text.contains("El vendedor recibió"),
        "{text}"
    );
    assert!(spanish.len() < 100_000, "{} bytes", spanish.len());

    // Nobody else, and no receipt before completion.
    error_of(
        app.get_authed(
            &format!("/api/transactions/{id}/receipt.pdf"),
            &app.create_account("carla").await.access_token,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let started = app.checkout(&buyer, &code).await;
    let pending = started["transaction"]["id"].as_str().expect("an id");
    error_of(
        app.get_authed(
            &format!("/api/transactions/{pending}/receipt.pdf"),
            &buyer.account.access_token,
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;

    // A guest reads theirs with the purchase key.
    let guest = app.guest_checkout(&code, "carmen").await;
    let key = guest["guest_key"].as_str().expect("a key");
    let guest_id = guest["transaction"]["id"].as_str().expect("an id");
    let finish = app
        .consent(
            guest["redirect_url"].as_str().expect("a redirect"),
            "approve",
        )
        .await;
    app.finish(&finish).await;
    app.wait_for_guest_status(guest_id, key, "completed").await;
    let response = app
        .get_with_key(&format!("/api/transactions/{guest_id}/receipt.pdf"), key)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = pdf_text(&response.bytes().await.expect("bytes"));
    assert!(text.contains("Guest"), "{text}");
}

/// moto's S3 server (PyPI; `scripts/install-test-tools.sh` installs it into `tools/moto-venv`),
/// on its own port, with an empty bucket; returns it with its URL.
async fn s3_server(bucket: &str) -> (crate::processes::Process, String) {
    let moto = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tools/moto-venv/bin/moto_server"
    );
    let port = crate::processes::free_port();
    let child = std::process::Command::new(moto)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start moto_server (scripts/install-test-tools.sh installs it)");
    let process = crate::processes::Process::from_child(child);
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    crate::processes::ready(&http, &format!("{url}/moto-api/data.json")).await;
    let created = http
        .put(format!("{url}/{bucket}"))
        .send()
        .await
        .expect("create bucket");
    assert!(created.status().is_success(), "{}", created.status());
    (process, url)
}

/// The keys in `bucket`.
async fn bucket_keys(url: &str, bucket: &str) -> Vec<String> {
    let listing = reqwest::get(format!("{url}/{bucket}?list-type=2"))
        .await
        .expect("list")
        .text()
        .await
        .expect("xml");
    listing
        .split("<Key>")
        .skip(1)
        .filter_map(|rest| rest.split("</Key>").next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn with_a_bucket_configured_pictures_and_files_live_in_s3() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (_moto, s3) = s3_server("shifting-media").await;
    let endpoint = s3.clone();
    let app = spawn_app_with(move |s| {
        s.media.media_s3_bucket = Some("shifting-media".into());
        s.media.media_s3_endpoint = Some(endpoint);
        s.media.media_s3_access_key_id = Some("test-key".into());
        s.media.media_s3_secret_access_key = Some("test-secret".to_owned().into());
    })
    .await;
    let (seller, code) = seller_room(&app).await;
    let token = &seller.account.access_token;
    let response = app
        .upload_image(token, &code, "image/png", png(300, 200))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let room: Value = response.json().await.expect("json");
    let picture = app
        .client
        .get(room["images"][0]["url"].as_str().expect("a url"))
        .send()
        .await
        .expect("picture");
    assert_eq!(picture.status(), StatusCode::OK);
    let decoded =
        image::load_from_memory(&picture.bytes().await.expect("bytes")).expect("a picture");
    assert_eq!((decoded.width(), decoded.height()), (300, 200));
    assert_eq!(
        app.upload_file(token, &code, "notes.pdf", b"%PDF-1.7 notes".to_vec())
            .await
            .status(),
        StatusCode::OK
    );
    let (buyer, id) = completed_purchase(&app, &code).await;
    let download = app
        .get_authed(
            &format!("/api/transactions/{id}/delivery-file"),
            &buyer.account.access_token,
        )
        .await;
    assert_eq!(
        download.bytes().await.expect("bytes").as_ref(),
        b"%PDF-1.7 notes"
    );

    let mut keys = bucket_keys(&s3, "shifting-media").await;
    keys.sort();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(keys.iter().all(|key| key.starts_with("rooms/")), "{keys:?}");
    assert_eq!(
        keys.iter().filter(|key| key.contains("/images/")).count(),
        2
    );
    assert_eq!(media_files(&app), 0, "nothing in the data dir");
}
