//! The use cases of weelo, with no HTTP in between: create an order,
//! dispatch it in radius steps, hold, confirm and release trucks, driver
//! accept / decline / timeout, trip progress and live tracking, cancel,
//! expiry and completion, and the background jobs that keep time (the
//! sweeper, the cleanup job, the outbox relay, the presence tail).
//!
//! Each use case takes typed input and the shared [`Dispatch`] handles, runs
//! its transaction through `weelo-persistence` (with the outbox events it
//! implies) and answers `Result<_, DispatchError>`. No actix, no HTTP types.
//!
//! # Layout
//! - [`accounts`]: OTPs issued and checked under their limits.
//! - [`assignments`]: holds confirmed with vehicles and drivers, the drivers'
//!   answers and the answer deadline.
//! - [`broadcast`]: the radius steps and re-dispatch, the transporter's feed,
//!   the sweeper of due steps and unanswered assignments.
//! - [`context`]: [`Dispatch`], the shared handles.
//! - [`custom_bookings`]: customers' long-term booking requests.
//! - [`drivers`]: a driver's dashboard, earnings and performance.
//! - [`breaker`]: the circuit breaker in front of each outside provider.
//! - [`documents`]: drivers' photos and licences in object storage, KYC.
//! - [`driver_removal`]: a transporter removing a driver, its objects with it.
//! - [`error`]: [`DispatchError`] and [`ErrorCode`].
//! - [`vitals`]: pools, the relay's backlog and the loops' last passes, for `/metrics`.
//! - [`events`]: the wire contract of the sockets: every event, its payload
//!   and its rooms.
//! - [`fleet`]: vehicle-number rules, fleet errors, onboarding a driver.
//! - [`holds`]: a transporter holds searching trucks of an order line, and
//!   releases them.
//! - [`idempotent`]: claiming `X-Idempotency-Key` inside a change's
//!   transaction and storing its answer.
//! - [`orders`]: create and cancel, the order JSON, the expiry jobs.
//! - [`places`]: address search, reverse look-up, routes and ETAs, from
//!   Google, open services or the embedded gazetteer.
//! - [`presence`]: online transporters, the proximity index, the stream.
//! - [`pricing`]: prices from the rate card, with the quote to sign.
//! - [`push`]: push notifications (FCM) for whoever has no live socket.
//! - [`ratings`]: customers rating completed trips; drivers' averages.
//! - [`relay`]: the outbox relay that sends committed events to every
//!   instance's sockets.
//! - [`sockets`]: this instance's sockets as the use cases see them.
//! - [`supervisor`]: the background work of an instance, stopped together.
//! - [`tracking`]: trip statuses, GPS fixes, live views, the silence
//!   watchdog.
//! - [`wire`]: small pieces of the apps' wire format (timestamps, masked
//!   phones, JSON parsing that names the field).

pub mod accounts;
pub mod assignments;
pub mod breaker;
pub mod broadcast;
pub mod context;
pub mod custom_bookings;
pub mod documents;
pub mod driver_removal;
pub mod drivers;
pub mod error;
pub mod events;
pub mod fleet;
pub mod holds;
pub mod idempotent;
pub mod orders;
pub mod places;
pub mod presence;
pub mod pricing;
pub mod push;
pub mod ratings;
pub mod relay;
pub mod sockets;
pub mod supervisor;
pub mod tracking;
pub mod vitals;
pub mod wire;

pub use context::{Dispatch, DispatchSettings, Providers};
pub use error::{DispatchError, ErrorCode};
