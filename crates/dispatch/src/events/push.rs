//! Which events also go out as a push, to whom, and the push itself: the
//! FCM data message the apps read (docs/app-contract.md §4.4, the captain's
//! `WeeloFirebaseService` types and the customer's keys). An event's push
//! is decided here, next to the event, and nowhere else: [`rooms`] picks the
//! rooms of an event's audience that are pushed (their users, when no socket
//! of theirs is live), [`message`] writes the message from the stored
//! payload when a worker sends it.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use weelo_orders::Role;

use super::{Room, names, text};

/// How urgently FCM should deliver (`android.priority`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// Wakes the device: an offer or a trip waiting for an answer.
    High,
    /// Delivered when the device is next awake enough.
    Normal,
}

impl Priority {
    /// FCM's word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::High => "high",
            Self::Normal => "normal",
        }
    }
}

/// Whether `topic` is pushed to a user of `role`, and how urgently.
pub fn policy(topic: &str, role: Role) -> Option<Priority> {
    use Role::{Customer, Driver, Transporter};
    let priority = match (topic, role) {
        (names::NEW_BROADCAST, Transporter)
        | (names::TRIP_ASSIGNED, Driver)
        | (names::DRIVER_TIMEOUT, Transporter) => Priority::High,
        (names::ORDER_CANCELLED | names::BROADCAST_DISMISSED, Transporter)
        | (names::BROADCAST_EXPIRED | names::DRIVER_ACCEPTED, Transporter)
        | (names::DRIVER_DECLINED | names::DRIVER_MAY_BE_OFFLINE, Transporter)
        | (names::ASSIGNMENT_STATUS_CHANGED | names::ORDER_EXPIRED, Customer)
        | (names::BOOKING_COMPLETED, Transporter | Customer)
        | (names::TRIP_CANCELLED, Transporter | Driver)
        | (names::BOOKING_FULLY_FILLED | names::DRIVER_APPROACHING, Customer)
        | (names::DRIVER_VERIFICATION_CHANGED, Driver | Transporter)
        | (names::VEHICLE_DOCUMENT_EXPIRING, Transporter) => Priority::Normal,
        _ => return None,
    };
    Some(priority)
}

/// The role a room is pushed as (rooms of several users, or of an order's
/// watchers, are never pushed).
fn role_of(room: &Room) -> Option<Role> {
    match room {
        Room::Customer(_) => Some(Role::Customer),
        Room::Transporter(_) => Some(Role::Transporter),
        Room::Driver(_) => Some(Role::Driver),
        _ => None,
    }
}

/// The rooms of `audience` that `topic` is pushed to.
pub fn rooms(topic: &str, audience: &[Room]) -> Vec<String> {
    audience
        .iter()
        .filter(|room| role_of(room).is_some_and(|role| policy(topic, role).is_some()))
        .map(Room::name)
        .collect()
}

/// A push for one user: what every token of theirs is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct PushMessage {
    /// The `type` the app switches on.
    pub kind: String,
    /// FCM's delivery priority.
    pub priority: Priority,
    /// How long FCM may hold it for an unreachable device.
    pub ttl: Duration,
    /// The data message (every value a string).
    pub data: BTreeMap<String, String>,
}

/// What a message is written from.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// The event's name.
    pub topic: &'a str,
    /// The event's payload.
    pub payload: &'a Value,
    /// The event's id (its delivery sequence).
    pub event_id: i64,
    /// The room it is pushed to (`driver:{id}`…).
    pub room: &'a str,
    /// The user's preferred language (`hi` for Hindi; English otherwise).
    pub language: Option<&'a str>,
}

/// FCM refuses a data message over 4096 bytes; keys and values count.
const DATA_LIMIT: usize = 4000;

/// How long a high-priority push without a deadline of its own may wait.
const HIGH_TTL: Duration = Duration::from_secs(60);

/// The push of `source` at `now`, or `None` when there is none (not a
/// pushed event for this role, or its answer window has already closed).
/// Normal pushes live `normal_ttl`; high ones until the payload's
/// `expiresAt` (the time left to answer).
pub fn message(
    source: Source<'_>,
    now: DateTime<Utc>,
    normal_ttl: Duration,
) -> Option<PushMessage> {
    let role = Role::parse(source.room.split(':').next()?)?;
    let priority = policy(source.topic, role)?;
    let fields = source.payload.as_object()?;
    let ttl = match priority {
        Priority::High => match fields.get("expiresAt").and_then(Value::as_str) {
            Some(at) => {
                let left = DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc) - now;
                Duration::from_secs(u64::try_from(left.num_seconds()).ok().filter(|s| *s > 0)?)
            }
            None => HIGH_TTL,
        },
        Priority::Normal => normal_ttl,
    };
    let kind = kind_of(source.topic, role, fields);
    let (title, body) = text::title_and_body(&kind, fields, source.language);
    let mut data = BTreeMap::new();
    let event_id = source.event_id.to_string();
    let essentials = [
        ("type", kind.clone()),
        ("title", title),
        ("body", body),
        ("eventId", event_id.clone()),
        (
            "payloadVersion",
            fields
                .get("payloadVersion")
                .map_or(event_id, |version| scalar(version).unwrap_or_default()),
        ),
    ];
    let mut size = 0;
    for (key, value) in essentials {
        size += key.len() + value.len();
        data.insert(key.to_owned(), value);
    }
    for (key, value) in flat(fields) {
        if data.contains_key(&key) {
            continue;
        }
        let cost = key.len() + value.len();
        if size + cost > DATA_LIMIT {
            continue;
        }
        size += cost;
        data.insert(key, value);
    }
    Some(PushMessage {
        kind,
        priority,
        ttl,
        data,
    })
}

/// The `type` the recipient's app knows for `topic`.
fn kind_of(topic: &str, role: Role, fields: &Map<String, Value>) -> String {
    let status = fields.get("status").and_then(Value::as_str).unwrap_or("");
    let kind = match (topic, role) {
        (names::ASSIGNMENT_STATUS_CHANGED, Role::Customer) => match status {
            "driver_accepted" | "heading_to_pickup" => "driver_assigned",
            "at_pickup" => "driver_arriving",
            "in_transit" => "trip_started",
            "completed" => "trip_completed",
            _ => "trip_update",
        },
        (names::ASSIGNMENT_STATUS_CHANGED, _) => "assignment_update",
        (names::BOOKING_FULLY_FILLED, Role::Customer) => "booking_confirmed",
        (names::BOOKING_COMPLETED, Role::Customer) => "trip_completed",
        (names::ORDER_EXPIRED, Role::Customer) => "trip_update",
        (names::DRIVER_MAY_BE_OFFLINE, _) => "driver_offline",
        (names::DRIVER_APPROACHING, Role::Customer) => "driver_arriving",
        (other, _) => other,
    };
    kind.to_owned()
}

/// The payload's fields as strings, one level of nesting flattened
/// (`pickup.address` → `pickupAddress`), scalar fields first and lists
/// last (the first to be left out when the message would be too long).
fn flat(fields: &Map<String, Value>) -> Vec<(String, String)> {
    let mut scalars = Vec::new();
    let mut nested = Vec::new();
    let mut lists = Vec::new();
    for (key, value) in fields {
        match value {
            Value::Object(inner) => {
                for (inner_key, inner_value) in inner {
                    if let Some(text) = scalar(inner_value) {
                        nested.push((format!("{key}{}", capitalised(inner_key)), text));
                    }
                }
            }
            Value::Array(_) => lists.push((key.clone(), value.to_string())),
            other => {
                if let Some(text) = scalar(other) {
                    scalars.push((key.clone(), text));
                }
            }
        }
    }
    scalars.extend(nested);
    scalars.extend(lists);
    scalars
}

/// A scalar as the string FCM carries (`null` and containers: none).
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

fn capitalised(key: &str) -> String {
    let mut chars = key.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}
