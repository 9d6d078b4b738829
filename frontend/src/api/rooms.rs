//! `/api/rooms`: the seller's rooms and the public room view.

use gloo_net::http::Method;
use shifting_shared::api::{
    CreateRoomRequest, DeliveryFileResponse, MoveRoomRequest, RoomListResponse, RoomResponse,
    UpdateRoomRequest,
};

use super::client::{self, ApiError, segment};
use crate::session::Session;

/// Creates a room.
pub async fn create_room(
    session: Session,
    request: &CreateRoomRequest,
) -> Result<RoomResponse, ApiError> {
    client::post("/api/rooms", request, Some(session)).await
}

/// All the caller's rooms, newest first (every page).
pub async fn my_rooms(session: Session) -> Result<RoomListResponse, ApiError> {
    let mut all: RoomListResponse = client::get("/api/rooms?limit=50", Some(session)).await?;
    while let Some(cursor) = all.next_cursor.take() {
        let page: RoomListResponse = client::get(
            &format!("/api/rooms?limit=50&cursor={}", client::cursor(&cursor)),
            Some(session),
        )
        .await?;
        all.rooms.extend(page.rooms);
        all.next_cursor = page.next_cursor;
    }
    Ok(all)
}

/// A room by code (public).
pub async fn room(code: &str) -> Result<RoomResponse, ApiError> {
    client::get(&format!("/api/rooms/{}", segment(code)), None).await
}

/// Moves a room's payouts to the caller's current wallet at `price` (in that wallet's
/// currency).
pub async fn move_room(
    session: Session,
    code: &str,
    price: String,
) -> Result<RoomResponse, ApiError> {
    client::post(
        &format!("/api/rooms/{}/wallet", segment(code)),
        &MoveRoomRequest { price },
        Some(session),
    )
    .await
}

/// Changes a room's status or description.
pub async fn update_room(
    session: Session,
    code: &str,
    request: &UpdateRoomRequest,
) -> Result<RoomResponse, ApiError> {
    client::patch(
        &format!("/api/rooms/{}", segment(code)),
        request,
        Some(session),
    )
    .await
}

/// Adds a picture (the file as the browser holds it) to a room.
pub async fn add_image(
    session: Session,
    code: &str,
    file: web_sys::File,
) -> Result<RoomResponse, ApiError> {
    let media_type = file.type_();
    client::send_file(
        Method::POST,
        &format!("/api/rooms/{}/images", segment(code)),
        file.into(),
        &media_type,
        session,
    )
    .await
}

/// Removes one of a room's pictures.
pub async fn remove_image(
    session: Session,
    code: &str,
    id: &str,
) -> Result<RoomResponse, ApiError> {
    client::delete(
        &format!("/api/rooms/{}/images/{}", segment(code), segment(id)),
        session,
    )
    .await
}

/// Attaches the file a room's buyers download.
pub async fn set_delivery_file(
    session: Session,
    code: &str,
    file: web_sys::File,
) -> Result<DeliveryFileResponse, ApiError> {
    let name: String = url::form_urlencoded::byte_serialize(file.name().as_bytes()).collect();
    let media_type = Some(file.type_())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    client::send_file(
        Method::PUT,
        &format!("/api/rooms/{}/delivery-file?name={name}", segment(code)),
        file.into(),
        &media_type,
        session,
    )
    .await
}

/// Stops delivering a file with a room.
pub async fn remove_delivery_file(session: Session, code: &str) -> Result<(), ApiError> {
    client::delete_no_content(
        &format!("/api/rooms/{}/delivery-file", segment(code)),
        session,
    )
    .await
}
