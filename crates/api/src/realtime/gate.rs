//! Socket handshakes authenticated with the same access tokens as HTTP,
//! the events a reconnecting transporter missed (`auth.lastSeq`), a
//! driver's trips still waiting for an answer, and the client events: the
//! app-level `ping`, joining and leaving an order's room, heartbeats, GPS
//! fixes and device tokens. Only the main namespace is served.

use futures_util::future::BoxFuture;
use serde_json::{Value, json};
use uuid::Uuid;
use weelo_dispatch::accounts::{devices, users};
use weelo_dispatch::events::{
    BookingJoined, ClientEvent as Incoming, Connected, Event, Pong, Room, SocketError, room,
};
use weelo_realtime::{Args, ClientEvent, Emit, Gatekeeper, Handshake, Identity, Reply};

use crate::AppState;
use crate::auth::Role;
use crate::auth::extract::authenticate;
use crate::limits::Kind;
use weelo_dispatch::tracking::ingest::Source;

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
    fn connect<'a>(&'a self, handshake: Handshake<'a>) -> BoxFuture<'a, Result<Identity, String>> {
        Box::pin(async move {
            if handshake.namespace != "/" {
                return Err("Invalid namespace".to_owned());
            }
            let auth = handshake.auth;
            let token = auth.get("token").and_then(Value::as_str);
            let caller = authenticate(&self.state, token)
                .await
                .map_err(|error| error.to_string())?;
            let role = caller.role.as_str();
            let mut rooms = vec![
                Room::User(caller.user_id),
                Room::Role(caller.role),
                Room::of_role(caller.role, caller.user_id),
                // A logout disconnects the session's sockets through it.
                Room::Session(caller.session_id),
            ];
            if caller.role == Role::Driver {
                // A driver hears its fleet's room, not its transporter's:
                // the old server put drivers in `transporter:{id}`, so every
                // driver's app saw the fleet owner's broadcasts and holds.
                if let Ok(Some(driver)) = users::find(&self.state.dispatch, caller.user_id).await
                    && let Some(transporter) = driver.transporter_id
                {
                    rooms.push(Room::Fleet(transporter));
                }
            }
            let rooms = room::names(&rooms);
            let welcome = emit(Event::Connected(Connected {
                socket_id: handshake.sid,
                user_id: caller.user_id,
                role,
                rooms: rooms.clone(),
            }));
            let may_replay = || {
                let now = self.state.clock.now();
                let allowed = self
                    .state
                    .limits
                    .take(caller.user_id, Kind::Backlog, now)
                    .is_ok();
                if !allowed {
                    tracing::debug!(user.id = %caller.user_id, "reconnect backlog over the limit; the app replays instead");
                }
                allowed
            };
            let backlog = match (caller.role, last_seq(auth)) {
                (Role::Transporter, Some(after)) if may_replay() => {
                    missed(
                        &self.state,
                        &Room::Transporter(caller.user_id).name(),
                        after,
                    )
                    .await
                }
                (Role::Driver, _) => pending_trips(&self.state, caller.user_id).await,
                _ => Vec::new(),
            };
            let mut greeting = vec![welcome];
            greeting.extend(
                backlog
                    .into_iter()
                    .map(|(name, data)| Emit::new(name, data)),
            );
            let valid_for = caller.expires_at - self.state.clock.now().timestamp();
            // From here on its events reach it by socket, not by push.
            self.state.push.live.arrived(caller.user_id).await;
            Ok(Identity {
                user_id: caller.user_id,
                role: role.to_owned(),
                rooms,
                greeting,
                valid_for: Some(std::time::Duration::from_secs(
                    u64::try_from(valid_for).unwrap_or(0),
                )),
            })
        })
    }

    fn on_event<'a>(&'a self, who: &'a Identity, event: ClientEvent) -> BoxFuture<'a, Reply> {
        Box::pin(async move {
            let mut reply = match Incoming::parse(&event.name) {
                Some(Incoming::Ping) => Reply {
                    emits: vec![emit(Event::Pong(Pong { ok: true }))],
                    ..Reply::default()
                },
                Some(Incoming::JoinBooking) => self.booking_room(who, &event, true).await,
                Some(Incoming::LeaveBooking) => self.booking_room(who, &event, false).await,
                Some(known) => {
                    self.handle(who, known, event.data()).await;
                    Reply::default()
                }
                None => {
                    // Events no feature consumes: ignored without touching
                    // the database (a flood of made-up events costs no
                    // connection).
                    tracing::debug!(socket.event = %event.name, user.id = %who.user_id, "client event not handled");
                    Reply::default()
                }
            };
            if event.wants_ack {
                reply.ack = Some(Args::one(json!({ "ok": true })));
            }
            reply
        })
    }

    fn disconnected(&self, who: &Identity) {
        self.state
            .push
            .live
            .left(who.user_id, &self.state.supervisor);
    }
}

impl TokenGate {
    /// `join_booking` / `leave_booking` with an order id (or `{orderId}`):
    /// a customer joins its own orders' rooms only. The id is read as a
    /// UUID in any of its spellings (upper case, braces) and the room named
    /// by its canonical form, the one events are sent to.
    async fn booking_room(&self, who: &Identity, event: &ClientEvent, joining: bool) -> Reply {
        let data = event.data();
        let raw = data
            .as_str()
            .or_else(|| data.get("orderId").and_then(Value::as_str))
            .unwrap_or("");
        let order_id = Uuid::parse_str(raw.trim()).ok();
        let allowed = match order_id {
            Some(order_id) => !joining || self.may_join_order(who, order_id).await,
            None => false,
        };
        let Some(order_id) = order_id.filter(|_| allowed) else {
            return Reply {
                emits: vec![emit(Event::Error(SocketError {
                    message: "you cannot join this booking",
                    order_id: raw.to_owned(),
                }))],
                ..Reply::default()
            };
        };
        let room = Room::Order(order_id).name();
        if joining {
            Reply {
                join: vec![room],
                emits: vec![emit(Event::BookingJoined(BookingJoined { order_id }))],
                ..Reply::default()
            }
        } else {
            Reply {
                leave: vec![room],
                ..Reply::default()
            }
        }
    }

    async fn may_join_order(&self, who: &Identity, order_id: Uuid) -> bool {
        if who.role != Role::Customer.as_str() {
            return false;
        }
        weelo_dispatch::orders::queries::is_customers(&self.state.dispatch, who.user_id, order_id)
            .await
            .unwrap_or(false)
    }

    /// Heartbeats, fixes, device tokens.
    async fn handle(&self, who: &Identity, event: Incoming, data: &Value) {
        match event {
            Incoming::UpdateLocation => return self.location(who, data).await,
            Incoming::DispatchAck | Incoming::BroadcastAck => return self.ack(who, data).await,
            Incoming::Heartbeat => {}
            Incoming::FcmTokenRefresh => {
                let valid = data
                    .get("fcmToken")
                    .and_then(Value::as_str)
                    .is_some_and(|token| !token.is_empty() && token.len() <= 4096);
                if !valid {
                    return;
                }
            }
            Incoming::Ping | Incoming::JoinBooking | Incoming::LeaveBooking => return,
        }
        let dispatch = &self.state.dispatch;
        let result = match data.get("fcmToken").and_then(Value::as_str) {
            // Without a device id a token another user holds stays theirs.
            Some(token) if event == Incoming::FcmTokenRefresh => {
                devices::register(dispatch, who.user_id, token, Some("android"), None).await
            }
            // The driver app beats over the socket while online (docs/app-contract.md:
            // it updates lastSeenAt, which the fleet's driver list shows).
            _ => users::touch_last_seen(dispatch, who.user_id).await,
        };
        if let Err(error) = result {
            tracing::warn!(socket.event = event.name(), error = %error, "client event failed");
        }
    }
}

/// A driver's unanswered trips, sent again at every connect (the overlay
/// must come back after an app restart); empty when the database fails.
async fn pending_trips(state: &AppState, driver: Uuid) -> Vec<(String, Value)> {
    weelo_dispatch::assignments::queries::pending_of_driver(&state.dispatch, driver)
        .await
        .unwrap_or_else(|error| {
            tracing::warn!(error = %error, "pending trips not re-sent");
            Vec::new()
        })
}

impl TokenGate {
    /// A transporter's app acknowledging an offer: recorded once, for the
    /// delivery-latency figures.
    async fn ack(&self, who: &Identity, data: &Value) {
        if who.role != Role::Transporter.as_str() {
            return;
        }
        let Some(order_id) = data
            .get("orderId")
            .or_else(|| data.get("broadcastId"))
            .and_then(Value::as_str)
            .and_then(|id| Uuid::parse_str(id.trim()).ok())
        else {
            return;
        };
        let source = data
            .get("source")
            .and_then(Value::as_str)
            .unwrap_or("socket");
        if let Err(error) = weelo_dispatch::broadcast::acks::record(
            &self.state.dispatch,
            who.user_id,
            order_id,
            source,
        )
        .await
        {
            tracing::debug!(order.id = %order_id, error = %error, "acknowledgement not recorded");
        }
    }

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

/// The room of one login session's sockets.
pub fn session_room(session_id: Uuid) -> String {
    Room::Session(session_id).name()
}

/// `event` as the socket sends it.
fn emit(event: Event) -> Emit {
    Emit::new(event.name(), event.payload())
}

/// Disconnects the sockets of a login session on every instance (through
/// pub/sub, or this instance's alone when Redis is down).
pub async fn disconnect_session(state: &AppState, session_id: Uuid) {
    let delivery = weelo_dispatch::sockets::Delivery {
        rooms: vec![session_room(session_id)],
        name: weelo_realtime::hub::DISCONNECT.to_owned(),
        data: json!({}),
        event_id: String::new(),
        server_time_ms: state.clock.now().timestamp_millis(),
    };
    weelo_dispatch::relay::publish_live(&state.cache, state.sockets.as_ref(), delivery).await;
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

/// What `room` missed after `after`; empty (the app falls back to the
/// replay call) when the database does not answer.
async fn missed(state: &AppState, room: &str, after: i64) -> Vec<(String, Value)> {
    weelo_dispatch::relay::backlog(&state.dispatch, room, after, BACKLOG_LIMIT)
        .await
        .unwrap_or_else(|error| {
            tracing::warn!(error = %error, "no backlog at reconnect");
            Vec::new()
        })
}
