//! Business rules and queries. Handlers call these; these call the entities.

pub mod accounts;
pub mod admin;
pub mod admin_views;
pub mod api_keys;
pub mod conversations;
pub mod erasure;
pub mod health;
pub mod idempotency;
pub mod pages;
pub mod passwords;
pub mod profiles;
pub mod rate_limit;
pub mod receipts;
pub mod recovery;
pub mod reports;
pub mod reviews;
pub mod room_media;
pub mod room_views;
pub mod rooms;
pub mod tokens;
pub mod transactions;
pub mod wallet_proofs;
pub mod wallets;
pub mod webhooks;
