//! The HTTP edge of weelo: routes, extractors, authentication, the DTOs in the
//! apps' shapes, and the one place where errors become HTTP responses.
//!
//! A library, so tests mount it in-process and the server binary only wires
//! it. Business rules live in `dispatch` and `orders`, never here.
//!
//! # Layout
//! - [`assignments`]: holds confirmed with vehicles and drivers, the
//!   drivers' answers and the answer deadline.
//! - [`auth`]: tokens, OTP delivery, the caller extractors.
//! - [`client_ip`]: the caller's address, through trusted proxies only.
//! - [`dispatch`]: radius steps and re-dispatch, the transporter's feed,
//!   and the sweeper of due steps and unanswered assignments.
//! - [`idempotent`]: `X-Idempotency-Key` for the captain app's mutations.
//! - [`fleet`]: vehicle-number rules and fleet errors.
//! - [`dto`]: the apps' JSON shapes of users and vehicles.
//! - [`error`]: [`ApiError`], the envelope, and the mapping to status codes.
//! - [`json`]: the JSON body extractor that names the offending field.
//! - [`limits`]: per-user limits on heartbeats, GPS batches, holds and
//!   replays.
//! - [`orders`]: create and cancel flows, order JSON, expiry jobs.
//! - [`presence`]: online transporters, the proximity index, the stream.
//! - [`realtime`]: the socket gate and the outbox relay.
//! - [`middleware`]: request ids, access logs and metrics for every request.
//! - [`metrics`]: the Prometheus registry behind `GET /metrics`.
//! - [`routes`]: one module per area, each with `configure`.
//! - [`state`]: what handlers share.
//! - [`tracking`]: trip statuses, GPS fixes, live views, the silence watchdog.

pub mod assignments;
pub mod auth;
pub mod client_ip;
pub mod dispatch;
pub mod dto;
pub mod error;
pub mod fleet;
pub mod idempotent;
pub mod json;
pub mod limits;
pub mod metrics;
pub mod middleware;
pub mod orders;
pub mod presence;
pub mod realtime;
pub mod routes;
pub mod state;
pub mod tracking;
pub mod validate;

pub use error::ApiError;
pub use json::ApiJson;
pub use routes::configure;
pub use state::AppState;
