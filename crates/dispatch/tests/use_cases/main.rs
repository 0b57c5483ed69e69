//! weelo-dispatch's use cases against the real PostgreSQL and Redis, with no
//! HTTP in between: each test builds the handles of one instance over a
//! database and a key prefix of its own, with a clock it moves.

mod drivers;
mod fleet;
mod harness;
mod holds;
mod orders;
mod push;
mod relay;
mod shutdown;
mod trips;
