//! The Redis mirror of order state: `status` and `check-active` read a
//! snapshot written after each commit, and PostgreSQL on a miss, a stale
//! snapshot or with Redis down.
//!
//! Read-your-writes: a snapshot is replaced only by a newer order version
//! (a compare-and-set in Redis), and it is written before the change is
//! answered, so a client never reads an older state than one it was given.
//! If the write itself fails (Redis flapping), snapshots live only
//! [`SNAPSHOT_TTL_MS`], which bounds how long a stale one can be served.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use weelo_cache::Cache;
use weelo_orders::OrderStatus;
use weelo_persistence::orders::Order;

/// How long a snapshot may be served without a newer write.
pub const SNAPSHOT_TTL_MS: u64 = 5_000;

/// What `status` needs of an order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StatusSnapshot {
    /// The order.
    pub order_id: Uuid,
    /// Its owner (reads by anyone else fall through to the 404 path).
    pub customer_id: Uuid,
    /// Stored status.
    pub status: String,
    /// Deadline of the search.
    pub expires_at: DateTime<Utc>,
    /// Trucks.
    pub total_trucks: i32,
    /// Trucks assigned.
    pub trucks_filled: i32,
    /// Dispatch progress.
    pub dispatch_state: String,
    /// Radius steps run.
    pub dispatch_attempts: i32,
    /// Transporters found online.
    pub online_candidates: i32,
    /// Transporters notified.
    pub notified_transporters: i32,
    /// Why it ended.
    pub reason_code: Option<String>,
    /// When written.
    pub created_at: DateTime<Utc>,
    /// Row version.
    pub version: i32,
}

impl From<&Order> for StatusSnapshot {
    fn from(order: &Order) -> Self {
        Self {
            order_id: order.id,
            customer_id: order.customer_id,
            status: order.status.as_str().to_owned(),
            expires_at: order.expires_at,
            total_trucks: order.total_trucks,
            trucks_filled: order.trucks_filled,
            dispatch_state: order.dispatch_state.as_str().to_owned(),
            dispatch_attempts: order.dispatch_attempts,
            online_candidates: order.online_candidates,
            notified_transporters: order.notified_transporters,
            reason_code: order.reason_code.clone(),
            created_at: order.created_at,
            version: order.version,
        }
    }
}

impl StatusSnapshot {
    /// Searching by status, yet past its deadline: the sweeper is about to
    /// expire it, so only PostgreSQL can say what it is now.
    pub fn is_settling(&self, now: DateTime<Utc>) -> bool {
        OrderStatus::parse(&self.status).is_some_and(OrderStatus::is_searching)
            && self.expires_at <= now
    }
}

fn status_key(order_id: Uuid) -> String {
    format!("order-status:{order_id}")
}

fn active_key(customer_id: Uuid) -> String {
    format!("active-order:{customer_id}")
}

/// The customer's searching order as `check-active` reports it, or none.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ActiveSnapshot {
    /// The searching order, if any.
    pub order: Option<StatusSnapshot>,
}

/// Writes the snapshots of `order` after a commit. Errors are logged, never
/// returned: the change is already durable in PostgreSQL.
pub async fn publish(cache: &Cache, order: &Order) {
    publish_all(cache, &[order]).await;
}

/// Writes the snapshots of every order of `orders` after a commit, in one
/// Redis call. Errors are logged, never returned.
pub async fn publish_all(cache: &Cache, orders: &[&Order]) {
    let mut named: Vec<(String, i64, String)> = Vec::with_capacity(orders.len() * 2);
    for order in orders {
        let snapshot = StatusSnapshot::from(*order);
        let searching = order.status().is_searching();
        let active = ActiveSnapshot {
            order: searching.then(|| snapshot.clone()),
        };
        let (Ok(status_json), Ok(active_json)) = (
            serde_json::to_string(&snapshot),
            serde_json::to_string(&active),
        ) else {
            continue;
        };
        named.push((status_key(order.id), i64::from(order.version), status_json));
        // The active key's version must grow across the customer's orders,
        // so it is the change time, not the per-order version.
        let active_version = order.updated_at.timestamp_micros();
        named.push((active_key(order.customer_id), active_version, active_json));
    }
    let snapshots: Vec<(&str, i64, &str)> = named
        .iter()
        .map(|(name, version, json)| (name.as_str(), *version, json.as_str()))
        .collect();
    if snapshots.is_empty() {
        return;
    }
    if let Err(error) = cache.put_snapshots(&snapshots, SNAPSHOT_TTL_MS).await {
        tracing::warn!(orders = orders.len(), error = %error, "order snapshots not written; reads fall back to PostgreSQL");
    }
}

async fn read<T: for<'de> Deserialize<'de>>(cache: &Cache, key: &str) -> Option<T> {
    match cache.get_snapshot(key).await {
        Ok(Some(json)) => serde_json::from_str(&json).ok(),
        Ok(None) => None,
        Err(error) => {
            tracing::debug!(error = %error, "order snapshot unavailable; reading PostgreSQL");
            None
        }
    }
}

/// The status snapshot of `order_id`, if Redis has a usable one.
pub async fn status(cache: &Cache, order_id: Uuid, now: DateTime<Utc>) -> Option<StatusSnapshot> {
    read::<StatusSnapshot>(cache, &status_key(order_id))
        .await
        .filter(|snapshot| !snapshot.is_settling(now))
}

/// The active-order snapshot of `customer_id`, if Redis has a usable one.
pub async fn active(
    cache: &Cache,
    customer_id: Uuid,
    now: DateTime<Utc>,
) -> Option<ActiveSnapshot> {
    read::<ActiveSnapshot>(cache, &active_key(customer_id))
        .await
        .filter(|snapshot| {
            snapshot
                .order
                .as_ref()
                .is_none_or(|order| !order.is_settling(now))
        })
}
