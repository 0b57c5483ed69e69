//! End-to-end tests: each starts the real server on port 0 against a database
//! and a Redis key prefix of its own (see `helpers`).

mod api_docs;
mod auth;
mod cancel_policy;
mod cluster;
mod custom_bookings;
mod dispatch;
mod documents;
mod documents_s3;
mod driver_figures;
mod driver_removal;
mod errors;
mod fleet;
mod hardening;
mod health;
mod helpers;
mod orders;
mod places;
mod presence;
mod pricing;
mod protocol;
mod push;
mod ratings;
mod readme;
mod realtime;
mod redis_pool;
mod sms;
mod startup;
mod trips;
