//! The use cases of weelo: create an order, dispatch it in radius steps, hold,
//! confirm and release trucks, driver accept / decline / timeout, trip
//! progress, cancel, expiry and completion.
//!
//! It talks to storage, cache and notifications only through traits it
//! defines; `persistence` and `cache` implement them. It must not depend on
//! diesel, actix or redis.
