//! The HTTP edge of weelo: routes, extractors, authentication, the DTOs in the
//! apps' shapes, and the one place where errors become HTTP responses.
//!
//! A library, so tests mount it in-process and the server binary only wires
//! it. Every use case lives in `weelo-dispatch` (its decisions in
//! `weelo-orders`); a handler extracts, calls one, and renders.
//!
//! # Layout
//! - [`auth`]: tokens, OTP delivery, the caller extractors.
//! - [`client_ip`]: the caller's address, through trusted proxies only.
//! - [`idempotent`]: reading `X-Idempotency-Key` and answering replays.
//! - [`error`]: [`ApiError`], the envelope, and the mapping to status codes.
//! - [`json`]: the JSON body extractor that names the offending field.
//! - [`limits`]: per-user limits on heartbeats, GPS batches, holds and
//!   replays.
//! - [`realtime`]: the socket gate (a handshake token to an identity and
//!   rooms).
//! - [`middleware`]: request ids, access logs and metrics for every request.
//! - [`metrics`]: the Prometheus registry behind `GET /metrics`.
//! - [`routes`]: one module per area, each with `configure`.
//! - [`openapi`]: the router every route is mounted through, and the
//!   OpenAPI document built from it.
//! - [`state`]: what handlers share.

pub mod auth;
pub mod client_ip;
pub mod error;
pub mod idempotent;
pub mod json;
pub mod limits;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod realtime;
pub mod routes;
pub mod state;
pub mod validate;

pub use error::ApiError;
pub use json::ApiJson;
pub use routes::configure;
pub use state::AppState;
