//! Black-box tests of the sandbox over HTTP: our Open Payments client, raw signed requests,
//! a browser-like client on the consent page, and the official Node SDK.

#![allow(clippy::unwrap_used, reason = "test fixtures fail loudly by design")]

mod consent;
mod flow;
mod helpers;
mod holds;
mod node_sdk;
mod refusals;
