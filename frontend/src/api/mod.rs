//! Talking to the Shifting API: one module per resource, all through [`client`].

pub mod account;
pub mod admin;
pub mod auth;
pub mod budgets;
pub mod client;
pub mod conversations;
pub mod keys;
pub mod me;
pub mod payments;
pub mod reviews;
pub mod rooms;
pub mod transactions;
pub mod webhooks;
