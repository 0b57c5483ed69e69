//! weelo-persistence against the real PostgreSQL: the hard statements (the
//! create batch, `SKIP LOCKED` claims, compare-and-set updates, idempotency
//! claims, the outbox numbering, the limits kept in PostgreSQL). Each test
//! has a database of its own, cloned from the migrated template.

mod accounts;
mod claims;
mod limits;
mod order_batch;
mod outbox;
mod statements;
mod stored;
mod support;
