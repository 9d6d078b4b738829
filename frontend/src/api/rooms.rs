//! `/api/rooms`, `/api/me`, payments and transactions.

use shifting_shared::api::{
    CreateRoomRequest, RoomListResponse, RoomResponse, StartPaymentRequest, StartPaymentResponse,
    TransactionPageResponse, TransactionResponse, UpdateProfileRequest, UpdateRoomRequest,
    UserResponse,
};

use super::client::{self, ApiError};

/// Sets the wallet address (the server resolves it).
pub async fn set_wallet(token: &str, wallet_address: String) -> Result<UserResponse, ApiError> {
    client::patch(
        "/api/me",
        &UpdateProfileRequest { wallet_address },
        Some(token),
    )
    .await
}

/// Creates a room.
pub async fn create_room(
    token: &str,
    request: &CreateRoomRequest,
) -> Result<RoomResponse, ApiError> {
    client::post("/api/rooms", request, Some(token)).await
}

/// The caller's rooms.
pub async fn my_rooms(token: &str) -> Result<RoomListResponse, ApiError> {
    client::get("/api/rooms", Some(token)).await
}

/// A room by code (public).
pub async fn room(code: &str) -> Result<RoomResponse, ApiError> {
    client::get(&format!("/api/rooms/{}", encode(code)), None).await
}

/// Changes a room's status or description.
pub async fn update_room(
    token: &str,
    code: &str,
    request: &UpdateRoomRequest,
) -> Result<RoomResponse, ApiError> {
    client::patch(
        &format!("/api/rooms/{}", encode(code)),
        request,
        Some(token),
    )
    .await
}

/// Starts paying for a room.
pub async fn start_payment(
    token: &str,
    code: &str,
    request: &StartPaymentRequest,
) -> Result<StartPaymentResponse, ApiError> {
    client::post(
        &format!("/api/rooms/{}/payments", encode(code)),
        request,
        Some(token),
    )
    .await
}

/// A page of the caller's transactions (`role` is `buyer` or `seller`).
pub async fn transactions(token: &str, role: &str) -> Result<TransactionPageResponse, ApiError> {
    client::get(
        &format!("/api/transactions?role={role}&limit=50"),
        Some(token),
    )
    .await
}

/// One transaction with its history.
pub async fn transaction(token: &str, id: &str) -> Result<TransactionResponse, ApiError> {
    client::get(&format!("/api/transactions/{}", encode(id)), Some(token)).await
}

/// Keeps a path segment from a URL to one segment of letters, digits and dashes.
fn encode(segment: &str) -> String {
    segment
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}
