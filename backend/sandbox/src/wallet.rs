//! Wallet addresses, their keys, and the accounts overview.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State as StateExtractor};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::{EntityTrait, QueryOrder};
use serde::Serialize;
use serde_json::json;
use shifting_open_payments::Jwks;

use crate::State;
use crate::error::RsError;
use crate::store::account;

/// `GET {base}/{name}`: the wallet address document.
pub(crate) async fn get_wallet_address(
    StateExtractor(state): StateExtractor<Arc<State>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, RsError> {
    require_json(&headers)?;
    let account = find(&state, &name).await?;
    Ok(Json(json!({
        "id": state.wallet_url(&account.name),
        "publicName": account.public_name,
        "assetCode": account.asset_code,
        "assetScale": account.asset_scale,
        "authServer": state.auth_server(),
        "resourceServer": state.resource_server(),
    }))
    .into_response())
}

/// `GET {base}/{name}/jwks.json`: the keys published for the wallet address.
pub(crate) async fn get_jwks(
    StateExtractor(state): StateExtractor<Arc<State>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Jwks>, RsError> {
    require_json(&headers)?;
    let account = find(&state, &name).await?;
    Ok(Json(
        state
            .keys
            .get(&account.name)
            .cloned()
            .unwrap_or(Jwks { keys: Vec::new() }),
    ))
}

/// One account in `GET {base}/accounts`.
#[derive(Debug, Serialize)]
pub(crate) struct AccountView {
    name: String,
    public_name: String,
    wallet_address: String,
    asset_code: String,
    asset_scale: i32,
    /// Minor units, as a string.
    balance: String,
    /// The owner's sign-in password at the sandbox wallet (play money: listed openly), asked
    /// before proving ownership.
    password: String,
}

/// `GET {base}/accounts`: every account with its balance, and the exchange rates.
/// `GET {base}/stats`: what the sandbox refused since it opened, for tests and demos.
pub(crate) async fn stats(StateExtractor(state): StateExtractor<Arc<State>>) -> Response {
    let too_fast = state
        .too_fast_refusals
        .load(std::sync::atomic::Ordering::Relaxed);
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({ "too_fast_refusals": too_fast })),
    )
        .into_response()
}

pub(crate) async fn list_accounts(
    StateExtractor(state): StateExtractor<Arc<State>>,
) -> Result<Response, RsError> {
    let accounts = account::Entity::find()
        .order_by_asc(account::Column::CreatedAt)
        .order_by_asc(account::Column::Name)
        .all(&state.db)
        .await?;
    let accounts: Vec<AccountView> = accounts
        .into_iter()
        .map(|a| AccountView {
            wallet_address: state.wallet_url(&a.name),
            name: a.name,
            public_name: a.public_name,
            asset_code: a.asset_code,
            asset_scale: a.asset_scale,
            balance: a.balance.to_string(),
            password: a.password,
        })
        .collect();
    let rates: serde_json::Map<String, serde_json::Value> = crate::money::rates()
        .into_iter()
        .map(|(code, usd)| (code.to_owned(), usd.into()))
        .collect();
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({ "accounts": accounts, "usd_rates": rates, "fee": "none" })),
    )
        .into_response())
}

/// Anything else under the sandbox.
pub(crate) async fn not_found() -> RsError {
    RsError::not_found("Not Found")
}

pub(crate) async fn find(state: &State, name: &str) -> Result<account::Model, RsError> {
    account::Entity::find_by_id(name.to_ascii_lowercase())
        .one(&state.db)
        .await?
        .ok_or_else(|| {
            RsError::not_found("Could not get wallet address")
                .with_details(json!({ "walletAddressUrl": state.wallet_url(name) }))
        })
}

/// As Rafiki's validator: a request that cannot take JSON gets 406.
fn require_json(headers: &HeaderMap) -> Result<(), RsError> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let takes_json = accept.split(',').any(|part| {
        let media = part.split(';').next().unwrap_or("").trim();
        matches!(media, "application/json" | "application/*" | "*/*")
    });
    if takes_json {
        Ok(())
    } else {
        Err(RsError::new(
            StatusCode::NOT_ACCEPTABLE,
            "Received error validating OpenAPI request: Must accept application/json",
        ))
    }
}
