//! Reusable pieces of the interface.

pub mod copy;
pub mod field;
pub mod first_steps;
pub mod gallery;
pub mod guard;
pub mod heading;
pub mod language;
pub mod nav;
pub mod phone;
pub mod problem;
pub mod qr;
pub mod report;
pub mod reviews;
pub mod status;
