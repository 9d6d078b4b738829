//! Black-box tests of the API over real HTTP, on SQLite by default and on PostgreSQL when
//! `SHIFTING_TEST_POSTGRES_URL` points at a server (the README's test command starts one).

mod account;
mod admin;
mod auth;
mod budgets;
mod cli;
mod conversations;
mod crashes;
mod errors;
mod finish;
mod guests;
mod helpers;
mod idempotency;
mod integrator;
mod keys;
mod live;
mod mail;
mod mailbox;
mod media;
mod openapi;
mod operations;
mod pagination;
mod payment_failures;
mod payments;
mod processes;
mod proxy;
mod recovery;
mod refunds;
mod replicas;
mod reviews;
mod rooms;
mod sales;
mod sandbox;
mod sessions;
mod stock;
mod webhooks;
