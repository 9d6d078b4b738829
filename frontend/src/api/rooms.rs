//! `/api/rooms`: the seller's rooms and the public room view.

use shifting_shared::api::{
    CreateRoomRequest, MoveRoomRequest, RoomListResponse, RoomResponse, UpdateRoomRequest,
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

/// The caller's rooms.
pub async fn my_rooms(session: Session) -> Result<RoomListResponse, ApiError> {
    client::get("/api/rooms", Some(session)).await
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
