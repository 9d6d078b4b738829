//! The Shifting HTTP API: configuration, the axum application, its services and entities.

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod entities;
pub mod error;
pub mod http;
pub mod live;
pub mod mail;
pub mod media;
pub mod metrics;
pub mod outbox;
pub mod payments;
pub mod secrets;
pub mod server;
pub mod services;
pub mod state;
pub mod telemetry;
pub mod webhooks;

pub use app::App;
pub use config::{RawSettings, Settings};
pub use error::ApiError;
