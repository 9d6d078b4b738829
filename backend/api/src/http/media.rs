//! Room pictures and delivery files over HTTP: raw request bodies (no multipart), each read up
//! to its own limit; pictures served publicly and cached for good (an id never names other
//! bytes); delivery files only to their buyer, per request, always as a download.

use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use shifting_shared::ErrorBody;
use shifting_shared::api::{DeliveryFileResponse, RoomResponse};
use uuid::Uuid;

use crate::error::{ApiError, Result};
use crate::http::extract::{AuthUser, PurchaseCaller};
use crate::http::rooms::{changing, room_code};
use crate::media::ByteStream;
use crate::services::room_media;
use crate::state::AppState;

/// The picture types an upload may declare.
const IMAGE_TYPES: [&str; 3] = ["image/jpeg", "image/png", "image/webp"];

/// Reads a raw body of at most `limit` bytes.
async fn read_body(body: Body, limit: usize) -> Result<Bytes> {
    axum::body::to_bytes(body, limit).await.map_err(|err| {
        let too_large = std::error::Error::source(&err)
            .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
        if too_large {
            ApiError::PayloadTooLarge
        } else {
            ApiError::BadRequest("The request body could not be read.".into())
        }
    })
}

/// The declared media type, without parameters, lower-cased.
fn content_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let mime = value.split(';').next()?.trim().to_ascii_lowercase();
    (!mime.is_empty()).then_some(mime)
}

/// Add a picture to a room (the seller only; at most four). Send the file itself as the body
/// with its type. The server decodes it, refuses anything that is not a JPEG, PNG or WebP
/// picture of at most 40 megapixels, applies its orientation, scales it to at most 1600 pixels
/// (and a 480-pixel thumbnail) and writes it anew, so no metadata survives.
#[utoipa::path(
    post,
    path = "/api/rooms/{code}/images",
    tag = "rooms",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "The room's code.", example = "K7M2QX")),
    request_body(content(
        (Vec<u8> = "image/jpeg"),
        (Vec<u8> = "image/png"),
        (Vec<u8> = "image/webp"),
    ), description = "The picture file (at most `SHIFTING_IMAGE_MAX_BYTES`, 10 MiB by default)."),
    responses(
        (status = 201, description = "The room with its pictures.", body = RoomResponse),
        (status = 400, description = "The body could not be read.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "Not the room's seller.", body = ErrorBody),
        (status = 404, description = "No room has this code.", body = ErrorBody),
        (status = 409, description = "The room already has four pictures (`field_codes.image` is `too_many_images`), or its pictures kept changing meanwhile.", body = ErrorBody),
        (status = 413, description = "The file is larger than the limit.", body = ErrorBody),
        (status = 415, description = "The body is not declared as `image/jpeg`, `image/png` or `image/webp`.", body = ErrorBody),
        (status = 422, description = "Not a picture we take: `field_codes.image` is `image_type`, `image_unreadable` or `image_too_many_pixels`.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn add_room_image(
    State(state): State<AppState>,
    user: AuthUser,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, axum::Json<RoomResponse>)> {
    let code = room_code(&code)?;
    if !content_type(&headers).is_some_and(|mime| IMAGE_TYPES.contains(&mime.as_str())) {
        return Err(ApiError::UnsupportedMediaType);
    }
    // Nobody but the seller gets a body read; uploads take turns.
    room_media::own_room(&state.db, user.id, &code).await?;
    let turn = state.media.upload_turn().await?;
    let upload = read_body(body, state.settings.media.image_max_bytes).await?;
    let room = changing(state, code, move |state, code| async move {
        room_media::add_image(&state, user.id, &code, upload).await
    })
    .await?;
    drop(turn);
    Ok((StatusCode::CREATED, room))
}

/// Remove one of a room's pictures (the seller only).
#[utoipa::path(
    delete,
    path = "/api/rooms/{code}/images/{id}",
    tag = "rooms",
    security(("bearer" = [])),
    params(
        ("code" = String, Path, description = "The room's code.", example = "K7M2QX"),
        ("id" = Uuid, Path, description = "The picture's id."),
    ),
    responses(
        (status = 200, description = "The room with its remaining pictures.", body = RoomResponse),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "Not the room's seller.", body = ErrorBody),
        (status = 404, description = "No room has this code, or it has no such picture.", body = ErrorBody),
        (status = 409, description = "The pictures kept changing meanwhile.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn remove_room_image(
    State(state): State<AppState>,
    user: AuthUser,
    path: std::result::Result<Path<(String, Uuid)>, PathRejection>,
) -> Result<axum::Json<RoomResponse>> {
    let Path((code, id)) =
        path.map_err(|_| ApiError::NotFound("This room has no such picture."))?;
    let code = room_code(&code)?;
    changing(state, code, move |state, code| async move {
        room_media::remove_image(&state, user.id, &code, id).await
    })
    .await
}

/// A room picture (at most 1600 pixels on its longest side), for anyone. Caches keep it five
/// minutes and then check back with its `ETag` (a picture's id never names other bytes; a
/// removed one is a 404).
#[utoipa::path(
    get,
    path = "/api/rooms/{code}/images/{id}",
    tag = "rooms",
    params(
        ("code" = String, Path, description = "The room's code.", example = "K7M2QX"),
        ("id" = Uuid, Path, description = "The picture's id."),
    ),
    responses(
        (status = 200, description = "The picture.", content(
            (Vec<u8> = "image/jpeg"),
            (Vec<u8> = "image/png"),
        ), headers(("ETag" = String, description = "The picture's id."))),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag."),
        (status = 404, description = "No room has this code, or it has no such picture.", body = ErrorBody),
        (status = 410, description = "The room is unavailable: the platform withdrew it (an admin hid it, or suspended its seller).", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn room_image(
    State(state): State<AppState>,
    path: std::result::Result<Path<(String, Uuid)>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response> {
    serve_image(&state, path, &headers, false).await
}

/// A room picture's thumbnail (at most 480 pixels on its longest side), for anyone.
#[utoipa::path(
    get,
    path = "/api/rooms/{code}/images/{id}/thumbnail",
    tag = "rooms",
    params(
        ("code" = String, Path, description = "The room's code.", example = "K7M2QX"),
        ("id" = Uuid, Path, description = "The picture's id."),
    ),
    responses(
        (status = 200, description = "The thumbnail.", content(
            (Vec<u8> = "image/jpeg"),
            (Vec<u8> = "image/png"),
        ), headers(("ETag" = String, description = "The picture's id."))),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag."),
        (status = 404, description = "No room has this code, or it has no such picture.", body = ErrorBody),
        (status = 410, description = "The room is unavailable: the platform withdrew it (an admin hid it, or suspended its seller).", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn room_image_thumbnail(
    State(state): State<AppState>,
    path: std::result::Result<Path<(String, Uuid)>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response> {
    serve_image(&state, path, &headers, true).await
}

async fn serve_image(
    state: &AppState,
    path: std::result::Result<Path<(String, Uuid)>, PathRejection>,
    headers: &HeaderMap,
    thumbnail: bool,
) -> Result<Response> {
    let Path((code, id)) =
        path.map_err(|_| ApiError::NotFound("This room has no such picture."))?;
    let code = room_code(&code)?;
    let (room_id, image) = room_media::find_image(&state.db, &code, id).await?;
    // An id never names other bytes, so its ETag never changes; caches check back every few
    // minutes, so a picture its seller removes stops being shown soon.
    let etag = format!(
        "\"{}{}\"",
        image.id,
        if thumbnail { "-thumbnail" } else { "" }
    );
    let etag = HeaderValue::from_str(&etag)
        .map_err(|err| ApiError::Internal(anyhow::anyhow!("an ETag: {err}")))?;
    let cache = HeaderValue::from_static("public, max-age=300");
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|tag| tag.trim().as_bytes() == etag.as_bytes())
        });
    if unchanged {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::CACHE_CONTROL, cache)],
        )
            .into_response());
    }
    let (size, stream) = room_media::image_file(state, room_id, &image, thumbnail).await?;
    Ok(stream_response(
        stream,
        size,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(image.format.content_type()),
            ),
            (header::CACHE_CONTROL, cache),
            (header::ETAG, etag),
        ],
    ))
}

fn stream_response<const N: usize>(
    stream: ByteStream,
    size: u64,
    headers: [(header::HeaderName, HeaderValue); N],
) -> Response {
    let mut response = Body::from_stream(stream).into_response();
    let map = response.headers_mut();
    for (name, value) in headers {
        map.insert(name, value);
    }
    map.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    response
}

/// The delivery file's name, as the upload's query gives it.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileNameQuery {
    /// The file's name with its extension, as buyers' downloads will save it.
    #[param(example = "lesson-notes.pdf")]
    pub name: Option<String>,
}

/// Attach the file a room's buyers download once their payment completes (the seller only);
/// it replaces the one there was. Send the file itself as the body, with its type (any; buyers
/// always get it as a download) and its name in the query.
#[utoipa::path(
    put,
    path = "/api/rooms/{code}/delivery-file",
    tag = "rooms",
    security(("bearer" = [])),
    params(
        ("code" = String, Path, description = "The room's code.", example = "K7M2QX"),
        FileNameQuery,
    ),
    request_body(content(
        (Vec<u8> = "application/octet-stream"),
    ), description = "The file (at most `SHIFTING_DELIVERY_FILE_MAX_BYTES`, 25 MiB by default), with any `Content-Type`."),
    responses(
        (status = 200, description = "The file now delivered with the room.", body = DeliveryFileResponse),
        (status = 400, description = "The body could not be read.", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "Not the room's seller.", body = ErrorBody),
        (status = 404, description = "No room has this code.", body = ErrorBody),
        (status = 409, description = "The room's file changed meanwhile.", body = ErrorBody),
        (status = 413, description = "The file is larger than the limit.", body = ErrorBody),
        (status = 422, description = "A missing or unusable `name`, or an empty file.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn put_delivery_file(
    State(state): State<AppState>,
    user: AuthUser,
    Path(code): Path<String>,
    query: std::result::Result<Query<FileNameQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<axum::Json<DeliveryFileResponse>> {
    let code = room_code(&code)?;
    let name = query.ok().and_then(|Query(q)| q.name).unwrap_or_default();
    let name = room_media::file_name(&name)?;
    let declared = content_type(&headers)
        .filter(|mime| mime.len() <= 100 && mime.contains('/'))
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    room_media::own_room(&state.db, user.id, &code).await?;
    let _turn = state.media.upload_turn().await?;
    let bytes = read_body(body, state.settings.media.delivery_file_max_bytes).await?;
    if bytes.is_empty() {
        return Err(ApiError::field(
            "body",
            shifting_shared::FieldError::new(
                shifting_shared::FieldCode::Required,
                "is empty: send the file",
            ),
        ));
    }
    let file =
        room_media::set_delivery_file(&state, user.id, &code, &name, &declared, bytes).await?;
    Ok(axum::Json(file))
}

/// Stop delivering a file with the room (the seller only).
#[utoipa::path(
    delete,
    path = "/api/rooms/{code}/delivery-file",
    tag = "rooms",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "The room's code.", example = "K7M2QX")),
    responses(
        (status = 204, description = "Removed."),
        (status = 401, description = "Missing, invalid or expired access token.", body = ErrorBody),
        (status = 403, description = "Not the room's seller.", body = ErrorBody),
        (status = 404, description = "No room has this code, or it delivers no file.", body = ErrorBody),
        (status = 409, description = "The room's file changed meanwhile.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn delete_delivery_file(
    State(state): State<AppState>,
    user: AuthUser,
    Path(code): Path<String>,
) -> Result<StatusCode> {
    let code = room_code(&code)?;
    room_media::remove_delivery_file(&state, user.id, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Download the file the room delivers: its buyer only (signed in, or a guest with the
/// purchase's key), once the payment completed. Authorised on every request; there is no
/// public address for it. Always an attachment, whatever its type.
#[utoipa::path(
    get,
    path = "/api/transactions/{id}/delivery-file",
    tag = "transactions",
    security(("bearer" = []), ("guest_key" = [])),
    params(("id" = Uuid, Path, description = "The transaction id.")),
    responses(
        (status = 200, description = "The file, as an attachment.", content((Vec<u8> = "application/octet-stream")),
            headers(("Content-Disposition" = String, description = "attachment; filename=…"))),
        (status = 401, description = "Neither an access token nor a guest key, an invalid or expired access token, or a guest key that does not open this purchase (the same whether or not the id exists).", body = ErrorBody),
        (status = 404, description = "Not the buyer's transaction, or the room delivers no file (or it changed during the request: download again).", body = ErrorBody),
        (status = 409, description = "The payment has not completed.", body = ErrorBody),
        (status = 500, description = "Internal error.", body = ErrorBody),
    )
)]
pub async fn download_delivery_file(
    State(state): State<AppState>,
    caller: PurchaseCaller,
    id: std::result::Result<Path<Uuid>, PathRejection>,
) -> Result<Response> {
    let Path(id) = id.map_err(|_| ApiError::NotFound("No such transaction."))?;
    let (file, size, stream) = room_media::delivery_download(&state, &caller, id).await?;
    Ok(stream_response(
        stream,
        size,
        [
            // Never rendered on our origin: a seller's HTML would run as us.
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (header::CONTENT_DISPOSITION, attachment(&file.name)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
        ],
    ))
}

/// `attachment` with the name both as plain ASCII and as RFC 5987 UTF-8.
pub(crate) fn attachment(name: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}
