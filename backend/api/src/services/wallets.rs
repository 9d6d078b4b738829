//! Resolving wallet addresses that people type into the Open Payments documents behind them.

use shifting_open_payments::client::{OpenPaymentsClient, OpenPaymentsError};
use shifting_open_payments::types::WalletAddress as WalletDocument;
use shifting_shared::{
    AddressPolicy, Asset, AssetCode, AssetScale, FieldCode, FieldError, WalletAddress,
};

use crate::error::{ApiError, Result};

/// A resolved wallet: its document and its asset, validated.
#[derive(Clone, Debug)]
pub struct ResolvedWallet {
    /// The wallet address document; use its `id` verbatim from now on.
    pub document: WalletDocument,
    /// Its asset.
    pub asset: Asset,
}

/// Normalises `input` under `policy` and resolves it over Open Payments (with the client's
/// fetch policy and cache).
///
/// # Errors
/// A 422 on `field` saying why the address is unusable: malformed, not allowed, unknown to
/// its provider, unreachable, or not an Open Payments wallet address.
pub async fn resolve(
    client: &OpenPaymentsClient,
    policy: AddressPolicy,
    input: &str,
    field: &str,
) -> Result<ResolvedWallet> {
    let address =
        WalletAddress::parse_with(input, policy).map_err(|e| ApiError::field(field, e))?;
    resolve_canonical(client, address.as_str())
        .await
        .map_err(|problem| ApiError::field(field, problem))
}

/// Resolves a wallet address already stored in canonical form.
///
/// # Errors
/// Why it could not be resolved: a code and a sentence ("does not exist at its wallet provider").
pub async fn resolve_canonical(
    client: &OpenPaymentsClient,
    address: &str,
) -> std::result::Result<ResolvedWallet, FieldError> {
    let document = client
        .get_wallet_address(address)
        .await
        .map_err(|err| explain(&err))?;
    let code = AssetCode::parse(&document.asset_code);
    let scale = AssetScale::new(document.asset_scale);
    match (code, scale) {
        (Ok(code), Ok(scale)) => Ok(ResolvedWallet {
            asset: Asset { code, scale },
            document,
        }),
        _ => Err(FieldError::new(
            FieldCode::WalletAssetUnsupported,
            format!(
                "uses an asset this platform cannot price in ({} at scale {})",
                document.asset_code, document.asset_scale
            ),
        )),
    }
}

/// Why a wallet address could not be resolved, for the person who typed it.
fn explain(err: &OpenPaymentsError) -> FieldError {
    let (code, message) = match err {
        OpenPaymentsError::Policy { source, .. } => (
            FieldCode::WalletNotAllowed,
            format!("is not allowed: {source}"),
        ),
        OpenPaymentsError::InvalidUrl(_) => (FieldCode::WalletScheme, "is not a valid URL".into()),
        OpenPaymentsError::Status { status: 404, .. } => (
            FieldCode::WalletNotFound,
            "does not exist at its wallet provider (404)".into(),
        ),
        OpenPaymentsError::Status { status, .. } => (
            FieldCode::WalletProviderError,
            format!("could not be resolved: its wallet provider answered {status}"),
        ),
        OpenPaymentsError::Network { .. } => (
            FieldCode::WalletUnreachable,
            "could not be reached; check the address and try again".into(),
        ),
        OpenPaymentsError::Timeout { .. } => (
            FieldCode::WalletTimeout,
            "did not answer in time; try again in a moment".into(),
        ),
        OpenPaymentsError::TooLarge { .. } | OpenPaymentsError::Decode { .. } => (
            FieldCode::NotAWallet,
            "is not an Open Payments wallet address".into(),
        ),
        OpenPaymentsError::UnexpectedGrant(_) => (
            FieldCode::WalletProviderError,
            "could not be resolved".into(),
        ),
    };
    FieldError::new(code, message)
}
