//! Socket handshakes authenticated with the same access tokens as HTTP,
//! the events a reconnecting transporter missed (`auth.lastSeq`), and a
//! driver's trips still waiting for an answer.

use futures_util::future::BoxFuture;
use serde_json::{Value, json};
use uuid::Uuid;
use weelo_persistence::{device_tokens, orders, outbox, users};
use weelo_realtime::{Gatekeeper, Identity};

use crate::AppState;
use crate::auth::Role;
use crate::auth::extract::authenticate;
use crate::tracking::ingest::Source;

/// Checks `auth.token` and gives the socket its rooms.
pub struct TokenGate {
    state: AppState,
}

impl TokenGate {
    /// A gate over the application's state.
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

impl Gatekeeper for TokenGate {
    fn connect<'a>(&'a self, auth: &'a Value) -> BoxFuture<'a, Result<Identity, String>> {
        Box::pin(async move {
            let token = auth.get("token").and_then(Value::as_str);
            let caller = authenticate(&self.state, token)
                .await
                .map_err(|error| error.to_string())?;
            let role = caller.role.as_str();
            let mut rooms = vec![
                format!("user:{}", caller.user_id),
                format!("role:{role}"),
                format!("{role}:{}", caller.user_id),
            ];
            if caller.role == Role::Driver {
                // A driver hears its fleet's room, not its transporter's:
                // the old server put drivers in `transporter:{id}`, so every
                // driver's app saw the fleet owner's broadcasts and holds.
                let mut conn = self.state.conn().await.map_err(|error| error.to_string())?;
                if let Ok(Some(driver)) = users::find(&mut conn, caller.user_id).await
                    && let Some(transporter) = driver.transporter_id
                {
                    rooms.push(format!("fleet:{transporter}"));
                }
            }
            let backlog = match (caller.role, last_seq(auth)) {
                (Role::Transporter, Some(after)) => {
                    missed(
                        &self.state,
                        &format!("transporter:{}", caller.user_id),
                        after,
                    )
                    .await
                }
                (Role::Driver, _) => pending_trips(&self.state, caller.user_id).await,
                _ => Vec::new(),
            };
            Ok(Identity {
                user_id: caller.user_id,
                role: role.to_owned(),
                rooms,
                backlog,
            })
        })
    }

    fn may_join_order<'a>(&'a self, who: &'a Identity, order_id: &'a str) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            let (Ok(order_id), true) = (
                Uuid::parse_str(order_id),
                who.role == Role::Customer.as_str(),
            ) else {
                return false;
            };
            let Ok(mut conn) = self.state.conn().await else {
                return false;
            };
            orders::find_for_customer(&mut conn, who.user_id, order_id)
                .await
                .is_ok_and(|order| order.is_some())
        })
    }

    fn on_event<'a>(
        &'a self,
        who: &'a Identity,
        name: &'a str,
        data: &'a Value,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if name == "update_location" {
                self.location(who, data).await;
                return;
            }
            let Ok(mut conn) = self.state.conn().await else {
                return;
            };
            let result = match name {
                // The driver app beats over the socket while online (API.md:
                // it updates lastSeenAt, which the fleet's driver list shows).
                "heartbeat" => {
                    users::touch_last_seen(&mut conn, who.user_id, self.state.clock.now()).await
                }
                "fcm_token_refresh" => match data.get("fcmToken").and_then(Value::as_str) {
                    Some(token) if !token.is_empty() && token.len() <= 4096 => {
                        device_tokens::register(
                            &mut conn,
                            who.user_id,
                            token,
                            Some("android"),
                            None,
                        )
                        .await
                    }
                    _ => Ok(()),
                },
                // Location streams, dispatch acks: their features consume them.
                _ => {
                    tracing::debug!(socket.event = name, user.id = %who.user_id, "client event not handled yet");
                    Ok(())
                }
            };
            if let Err(error) = result {
                tracing::warn!(socket.event = name, error = %error, "client event failed");
            }
        })
    }
}

/// A driver's unanswered trips, sent again at every connect (the overlay
/// must come back after an app restart); empty when the database fails.
async fn pending_trips(state: &AppState, driver: Uuid) -> Vec<(String, Value)> {
    let now = state.clock.now();
    let answer_secs = state.orders.driver_answer_secs;
    let found = match state.conn().await {
        Ok(mut conn) => {
            crate::assignments::pending_trips(&mut conn, driver, now, answer_secs).await
        }
        Err(error) => {
            tracing::warn!(error = %error, "pending trips not re-sent: database unavailable");
            return Vec::new();
        }
    };
    found.unwrap_or_else(|error| {
        tracing::warn!(error = %error, "pending trips not re-sent");
        Vec::new()
    })
}

impl TokenGate {
    /// A driver's GPS fix over the socket (`update_location {tripId, …}`);
    /// fixes of anyone else's trip are dropped.
    async fn location(&self, who: &Identity, data: &Value) {
        if who.role != "driver" {
            return;
        }
        let Some(trip_id) = data
            .get("tripId")
            .and_then(Value::as_str)
            .and_then(|id| Uuid::parse_str(id).ok())
        else {
            return;
        };
        let fixes = std::slice::from_ref(data);
        if let Err(error) = self
            .state
            .tracking
            .ingest(who.user_id, trip_id, fixes, Source::Socket)
            .await
        {
            tracing::debug!(trip.id = %trip_id, error = %error, "socket fix refused");
        }
    }
}

/// Most events pushed at a reconnect; the rest come from
/// `transporter/dispatch/replay`, which pages.
const BACKLOG_LIMIT: i64 = 100;

/// `auth.lastSeq`: the highest `_seq` the app saw, a string or a number.
fn last_seq(auth: &Value) -> Option<i64> {
    match auth.get("lastSeq")? {
        Value::String(text) => text.trim().parse().ok(),
        Value::Number(number) => number.as_i64(),
        _ => None,
    }
    .filter(|seq| *seq >= 0)
}

/// The events of `room` after `after`, stamped as the relay stamps them and
/// marked `_replayed`. Empty (the app falls back to the replay call) when
/// the database does not answer.
async fn missed(state: &AppState, room: &str, after: i64) -> Vec<(String, Value)> {
    let events = match state.conn().await {
        Ok(mut conn) => outbox::for_room_after(&mut conn, room, after, BACKLOG_LIMIT).await,
        Err(error) => {
            tracing::warn!(error = %error, "no backlog at reconnect: database unavailable");
            return Vec::new();
        }
    };
    let now_ms = state.clock.now().timestamp_millis();
    match events {
        Ok(events) => events
            .into_iter()
            .map(|event| {
                let mut data = event.payload;
                if let Value::Object(map) = &mut data {
                    map.insert("eventId".to_owned(), json!(event.id.to_string()));
                    map.insert("_seq".to_owned(), json!(event.id));
                    map.insert("serverTimeMs".to_owned(), json!(now_ms));
                    map.insert("_replayed".to_owned(), json!(true));
                }
                (event.topic, data)
            })
            .collect(),
        Err(error) => {
            tracing::warn!(error = %error, "no backlog at reconnect");
            Vec::new()
        }
    }
}
