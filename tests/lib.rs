//! End-to-end tests of weelo live in `integration/`, one binary; this library
//! is empty on purpose.
