//! Talking to the Shifting API.

pub mod auth;
pub mod client;
pub mod rooms;
