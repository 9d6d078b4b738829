//! SeaORM migrations for Shifting, written with backend-neutral schema helpers so the same
//! migrations run on SQLite (the embedded default) and PostgreSQL (production).

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_create_users;
mod m20261126_000002_create_refresh_tokens;
mod m20261201_000003_add_user_wallet_details;
mod m20261201_000004_create_rooms;
mod m20261201_000005_create_transactions;
mod m20261202_000006_harden_finish_and_sessions;
mod m20261204_000007_sales_and_stock;
mod m20261204_000008_room_wallet_name;
mod m20261204_000009_receipt_numbers;
mod m20261204_000010_room_delivery;
mod m20261204_000011_guest_checkout;
mod m20261204_000012_room_media;
mod m20261204_000013_reviews_and_wallet_proofs;
mod m20261204_000014_conversations;
mod m20261204_000015_mail_and_recovery;
mod m20261204_000016_message_notices;
mod m20261204_000017_budgets;
mod m20261204_000018_refunds;
mod m20261204_000019_moderation;
mod m20261204_000020_api_keys;
mod m20261204_000021_idempotency_keys;
mod m20261204_000022_webhooks;
mod m20261205_000023_retention_indexes;

/// Every migration, in order.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_users::Migration),
            Box::new(m20261126_000002_create_refresh_tokens::Migration),
            Box::new(m20261201_000003_add_user_wallet_details::Migration),
            Box::new(m20261201_000004_create_rooms::Migration),
            Box::new(m20261201_000005_create_transactions::Migration),
            Box::new(m20261202_000006_harden_finish_and_sessions::Migration),
            Box::new(m20261204_000007_sales_and_stock::Migration),
            Box::new(m20261204_000008_room_wallet_name::Migration),
            Box::new(m20261204_000009_receipt_numbers::Migration),
            Box::new(m20261204_000010_room_delivery::Migration),
            Box::new(m20261204_000011_guest_checkout::Migration),
            Box::new(m20261204_000012_room_media::Migration),
            Box::new(m20261204_000013_reviews_and_wallet_proofs::Migration),
            Box::new(m20261204_000014_conversations::Migration),
            Box::new(m20261204_000015_mail_and_recovery::Migration),
            Box::new(m20261204_000016_message_notices::Migration),
            Box::new(m20261204_000017_budgets::Migration),
            Box::new(m20261204_000018_refunds::Migration),
            Box::new(m20261204_000019_moderation::Migration),
            Box::new(m20261204_000020_api_keys::Migration),
            Box::new(m20261204_000021_idempotency_keys::Migration),
            Box::new(m20261204_000022_webhooks::Migration),
            Box::new(m20261205_000023_retention_indexes::Migration),
        ]
    }
}
