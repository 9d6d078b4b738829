//! SeaORM entities, one module per table.

pub mod refresh_tokens;
pub mod rooms;
pub mod transaction_events;
pub mod transactions;
pub mod users;
