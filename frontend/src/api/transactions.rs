//! `/api/transactions`: the caller's purchases and sales, their totals and their CSV export.

use shifting_shared::api::{SalesSummaryResponse, TransactionPageResponse, TransactionResponse};
use shifting_shared::refund::RefundReasonRequest;
use wasm_bindgen::JsCast;

use super::client::{self, ApiError, Caller, segment};
use crate::session::Session;

/// A page of the caller's transactions; `filters` is the query string of the API's filters
/// (`role=seller&kind=sales` …).
pub async fn transactions(
    session: Session,
    filters: &str,
) -> Result<TransactionPageResponse, ApiError> {
    client::get(
        &format!("/api/transactions?{filters}&limit=50"),
        Some(session),
    )
    .await
}

/// The caller's completed sales per currency; "today" starts at midnight where the browser is.
pub async fn sales_summary(session: Session) -> Result<SalesSummaryResponse, ApiError> {
    let offset = -js_sys::Date::new_0().get_timezone_offset();
    client::get(
        &format!("/api/transactions/summary?role=seller&utc_offset={offset}"),
        Some(session),
    )
    .await
}

/// Downloads the transactions `filters` takes as a CSV file named `file_name`.
pub async fn export_csv(session: Session, filters: &str, file_name: &str) -> Result<(), ApiError> {
    let text = client::get_text(
        &format!("/api/transactions/export.csv?{filters}"),
        Some(session),
    )
    .await?;
    let parts = js_sys::Array::of1(&text.into());
    save(&parts, "text/csv;charset=utf-8", file_name).map_err(|_| ApiError::Unexpected(0))
}

/// Downloads the receipt of a completed payment as a PDF in `language` (`en`, `es`).
pub async fn receipt_pdf(
    caller: Caller,
    id: &str,
    language: &str,
    file_name: &str,
) -> Result<(), ApiError> {
    let bytes = client::get_file(
        &format!(
            "/api/transactions/{}/receipt.pdf?lang={}",
            segment(id),
            segment(language)
        ),
        caller,
    )
    .await?;
    save_bytes(&bytes, "application/pdf", file_name)
}

/// Downloads the file the room delivers to this purchase's buyer.
pub async fn delivery_file(caller: Caller, id: &str, file_name: &str) -> Result<(), ApiError> {
    let bytes = client::get_file(
        &format!("/api/transactions/{}/delivery-file", segment(id)),
        caller,
    )
    .await?;
    save_bytes(&bytes, "application/octet-stream", file_name)
}

fn save_bytes(bytes: &[u8], media_type: &str, file_name: &str) -> Result<(), ApiError> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    save(&parts, media_type, file_name).map_err(|_| ApiError::Unexpected(0))
}

/// Hands `parts` to the browser as a download.
fn save(
    parts: &js_sys::Array,
    media_type: &str,
    file_name: &str,
) -> Result<(), wasm_bindgen::JsValue> {
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(media_type);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(parts, &options)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or(wasm_bindgen::JsValue::NULL)?;
    let link: web_sys::HtmlAnchorElement = document.create_element("a")?.unchecked_into();
    link.set_href(&url);
    link.set_download(file_name);
    link.click();
    web_sys::Url::revoke_object_url(&url)
}

/// Cancels a payment that awaits the caller's approval.
pub async fn cancel(caller: Caller, id: &str) -> Result<TransactionResponse, ApiError> {
    client::post_empty_as(&format!("/api/transactions/{}/cancel", segment(id)), caller).await
}

/// One transaction with its history.
pub async fn transaction(caller: Caller, id: &str) -> Result<TransactionResponse, ApiError> {
    client::get_as(&format!("/api/transactions/{}", segment(id)), caller).await
}

/// The seller starts refunding a completed sale; the answer carries the consent page.
pub async fn refund(
    session: Session,
    id: &str,
    reason: &str,
) -> Result<TransactionResponse, ApiError> {
    client::post(
        &format!("/api/transactions/{}/refund", segment(id)),
        &RefundReasonRequest {
            reason: reason.to_owned(),
        },
        Some(session),
    )
    .await
}

/// The buyer asks the seller for a refund.
pub async fn request_refund(
    session: Session,
    id: &str,
    reason: &str,
) -> Result<TransactionResponse, ApiError> {
    client::post(
        &format!("/api/transactions/{}/refund-request", segment(id)),
        &RefundReasonRequest {
            reason: reason.to_owned(),
        },
        Some(session),
    )
    .await
}
