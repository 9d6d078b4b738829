//! Reusable pieces of the interface.

pub mod field;
pub mod guard;
pub mod nav;
pub mod problem;
pub mod qr;
pub mod status;
