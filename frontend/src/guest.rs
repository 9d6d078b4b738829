//! Purchases made without an account. Each has a key (the server keeps only its hash) that
//! opens it; this browser keeps the keys of the purchases made or opened in it (a receipt link
//! carries its key in the fragment, `#key=…`). A purchase moves into an account only when its
//! holder asks, on its receipt page: never by itself at a sign-in, which on a shared computer
//! could be someone else's.

use std::collections::BTreeMap;

use leptos::prelude::*;
use shifting_shared::TransactionStatus;
use shifting_shared::api::TransactionResponse;

use crate::api;
use crate::api::client::{ApiError, Caller};
use crate::session::Session;

/// The local storage item holding `{transaction id: key}`.
const STORAGE_KEY: &str = "shifting.guest-purchases";

thread_local! {
    /// The keys while local storage is switched off (private modes, policies): they last as
    /// long as the app stays loaded.
    static IN_MEMORY: std::cell::RefCell<BTreeMap<String, String>> = const {
        std::cell::RefCell::new(BTreeMap::new())
    };
}

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

fn read() -> BTreeMap<String, String> {
    let mut keys: BTreeMap<String, String> = storage()
        .and_then(|storage| storage.get_item(STORAGE_KEY).ok().flatten())
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default();
    IN_MEMORY.with_borrow(|memory| keys.extend(memory.clone()));
    keys
}

fn write(keys: &BTreeMap<String, String>) {
    let stored = storage().and_then(|storage| {
        let json = serde_json::to_string(keys).ok()?;
        storage.set_item(STORAGE_KEY, &json).ok()
    });
    if stored.is_none() {
        IN_MEMORY.with_borrow_mut(|memory| memory.clone_from(keys));
    }
}

/// Keeps the key of purchase `id`.
pub fn remember(id: &str, key: &str) {
    let mut keys = read();
    keys.insert(id.to_owned(), key.to_owned());
    write(&keys);
}

/// The key this browser holds for purchase `id`.
pub fn key_for(id: &str) -> Option<String> {
    read().remove(id)
}

fn forget(id: &str) {
    let mut keys = read();
    if keys.remove(id).is_some() {
        write(&keys);
    }
}

/// This browser's guest purchases of room `code` in `status`, newest first (each read with its
/// key; those that no longer answer are left out).
pub async fn purchases(code: &str, status: TransactionStatus) -> Vec<TransactionResponse> {
    let mut found = Vec::new();
    for (id, key) in read() {
        if let Ok(purchase) = api::transactions::transaction(Caller::Guest(key), &id).await
            && purchase.room_code == code
            && purchase.status == status
        {
            found.push(purchase);
        }
    }
    found.sort_by_key(|purchase| std::cmp::Reverse(purchase.created_at));
    found
}

/// The receipt link of purchase `id`, with the key this browser holds for it.
pub fn receipt_link(id: &str) -> Option<String> {
    let key = key_for(id)?;
    let origin = window().location().origin().ok()?;
    Some(format!(
        "{origin}{}#key={key}",
        crate::pages::transaction_path(id)
    ))
}

/// Who asks about purchase `id`: its key when this browser holds one (it opens the purchase
/// whoever is signed in), else the session.
pub fn caller(session: Session, id: &str) -> Caller {
    key_for(id).map_or(Caller::Session(session), Caller::Guest)
}

/// Takes a receipt link's key out of the address (`#key=…`) into this browser's keys, and
/// drops the fragment, so it is not bookmarked or shared by accident.
pub fn take_key_from_address(id: &str) {
    if let Some(key) = crate::pages::take_from_fragment("key") {
        remember(id, &key);
    }
}

/// Moves purchase `id` into the signed-in account; forgets its key once it is there.
pub async fn claim(session: Session, id: String, key: String) -> Result<(), ApiError> {
    api::me::claim_purchase(session, &id, &key).await?;
    forget(&id);
    Ok(())
}
