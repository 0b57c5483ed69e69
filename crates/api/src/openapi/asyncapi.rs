//! The AsyncAPI 3 document of the sockets, built from the event types:
//! every server → client event of `weelo_dispatch::events` (its payload's
//! schema from the payload type, what it says and who hears it, all from
//! the one `events!` table), every client → server event of
//! [`ClientEvent`] (its payload written here, by an exhaustive match, so a
//! new client event cannot go undescribed), and the handshake's `auth`.
//! Served at `GET /api/v1/asyncapi.json`.

use schemars::generate::Contract;
use serde_json::{Map, Value, json};
use weelo_dispatch::events::{ClientEvent, catalogue};

use super::shapes::*;

/// A client → server event's payload and what the server does with it.
fn client_event(event: ClientEvent) -> (Value, &'static str) {
    let order = || json!({ "oneOf": [uuid(), obj(&[("orderId", uuid())])] });
    match event {
        ClientEvent::Ping => (json!({}), "answered with `pong`"),
        ClientEvent::JoinBooking => (
            order(),
            "a customer joins its own order's room (`booking_joined`), anything else is `error`",
        ),
        ClientEvent::LeaveBooking => (order(), "leaves the order's room"),
        ClientEvent::UpdateLocation => (
            json!({
                "type": "object",
                "required": ["tripId", "latitude", "longitude"],
                "properties": {
                    "tripId": uuid(),
                    "latitude": number(),
                    "longitude": number(),
                    "speed": number(),
                    "bearing": number(),
                    "accuracy": number(),
                    "timestamp": { "oneOf": [int(), time()] }
                }
            }),
            "a driver's GPS fix on its trip, relayed as `location_updated`",
        ),
        ClientEvent::Heartbeat => (object(), "a driver online: its last-seen time moves"),
        ClientEvent::FcmTokenRefresh => (
            json!({
                "type": "object",
                "required": ["fcmToken"],
                "properties": { "fcmToken": { "type": "string", "minLength": 1, "maxLength": 4096 } }
            }),
            "this device's new push token",
        ),
        ClientEvent::DispatchAck | ClientEvent::BroadcastAck => (
            json!({
                "type": "object",
                "properties": {
                    "orderId": uuid(),
                    "broadcastId": uuid(),
                    "source": string(),
                    "receivedAt": string()
                }
            }),
            "a transporter's app got an offer (recorded once, for the delivery figures)",
        ),
    }
}

fn handshake_auth() -> Value {
    json!({
        "type": "object",
        "required": ["token"],
        "properties": {
            "token": { "type": "string", "description": "An access token (auth/verify-otp or driver-auth/verify-otp)." },
            "fcmToken": { "type": "string", "description": "The captain app's push token, registered for this device." },
            "lastSeq": { "type": ["integer", "string"], "description": "The highest `_seq` of `new_broadcast` seen: the missed ones are sent again." }
        }
    })
}

/// The document.
pub fn document() -> Value {
    let mut generator = super::document::generator(Contract::Serialize);
    let mut messages = Map::new();
    let mut channel_messages = Map::new();
    let mut operations = Map::new();
    for event in catalogue(&mut generator) {
        messages.insert(
            event.name.to_owned(),
            json!({
                "name": event.name,
                "summary": event.description,
                "description": format!("Heard by {}.", event.audience),
                "x-audience": event.audience,
                "payload": event.payload.to_value(),
            }),
        );
        channel_messages.insert(
            event.name.to_owned(),
            json!({ "$ref": format!("#/components/messages/{}", event.name) }),
        );
        operations.insert(
            format!("send_{}", event.name),
            json!({
                "action": "send",
                "channel": { "$ref": "#/channels/socket" },
                "summary": event.description,
                "x-audience": event.audience,
                "messages": [{ "$ref": format!("#/channels/socket/messages/{}", event.name) }],
            }),
        );
    }
    for name in ClientEvent::NAMES {
        let Some(event) = ClientEvent::parse(name) else {
            continue;
        };
        let (payload, effect) = client_event(event);
        let key = format!("client_{name}");
        messages.insert(
            key.clone(),
            json!({
                "name": name,
                "summary": effect,
                "description": "Sent by a client; with an ack callback the server answers `{\"ok\": true}`.",
                "payload": payload,
            }),
        );
        channel_messages.insert(
            key.clone(),
            json!({ "$ref": format!("#/components/messages/{key}") }),
        );
        operations.insert(
            format!("receive_{name}"),
            json!({
                "action": "receive",
                "channel": { "$ref": "#/channels/socket" },
                "summary": effect,
                "messages": [{ "$ref": format!("#/channels/socket/messages/{key}") }],
            }),
        );
    }
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "weelo-rs realtime",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Socket.IO v5 over Engine.IO v4 at /socket.io/ (long-polling with upgrade, or WebSocket only). Each message is a Socket.IO event: its name is the message name, its single argument the payload. On connect a socket joins user:{id} and its role's room (customer:{id}, transporter:{id}, or driver:{id} and its fleet's transporter:{id}) and the rooms of its live orders; events are addressed to rooms. Every event is committed with the change it reports and reaches the sockets of every instance.",
            "license": { "name": "MIT OR Apache-2.0" }
        },
        "defaultContentType": "application/json",
        "servers": {
            "weelo": {
                "host": "localhost:3000",
                "protocol": "ws",
                "pathname": "/socket.io/",
                "description": "The server the apps connect to (its REST API is at /api/v1).",
                "security": [{ "$ref": "#/components/securitySchemes/handshakeToken" }]
            }
        },
        "channels": {
            "socket": {
                "address": "/socket.io/",
                "title": "One user's socket",
                "description": "The Socket.IO connection; the handshake's `auth` is described by x-handshake-auth.",
                "x-handshake-auth": handshake_auth(),
                "messages": channel_messages,
            }
        },
        "operations": operations,
        "components": {
            "messages": messages,
            "securitySchemes": {
                "handshakeToken": {
                    "type": "httpApiKey",
                    "name": "token",
                    "in": "query",
                    "description": "The access token, sent as `auth.token` in the Socket.IO handshake (not a URL parameter)."
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use weelo_dispatch::events::Event;

    use super::*;

    #[test]
    fn every_event_both_ways_is_described_with_its_payload() {
        let document = document();
        let messages = &document["components"]["messages"];
        for name in Event::NAMES {
            let message = &messages[*name];
            assert!(
                message["payload"].is_object(),
                "{name} has no payload schema"
            );
            assert!(
                message["x-audience"]
                    .as_str()
                    .is_some_and(|a| !a.is_empty()),
                "{name}: who hears it"
            );
            assert_eq!(
                document["operations"][format!("send_{name}")]["action"],
                "send"
            );
        }
        for name in ClientEvent::NAMES {
            assert!(
                !messages[format!("client_{name}")]["payload"].is_null(),
                "{name}"
            );
            assert_eq!(
                document["operations"][format!("receive_{name}")]["action"],
                "receive"
            );
        }
        let described = document["operations"].as_object().map_or(0, |o| o.len());
        assert_eq!(described, Event::NAMES.len() + ClientEvent::NAMES.len());
        assert!(
            document["channels"]["socket"]["x-handshake-auth"]["required"]
                .to_string()
                .contains("token")
        );
    }

    #[test]
    fn a_payload_schema_is_read_from_its_type() {
        let document = document();
        let broadcast = &document["components"]["messages"]["new_broadcast"]["payload"];
        let properties = broadcast["properties"]
            .as_object()
            .map(|p| p.len())
            .unwrap_or(0);
        assert!(properties > 10, "{broadcast}");
        assert!(
            broadcast["properties"]["pickupEtaMinutes"].is_object(),
            "{broadcast}"
        );
    }
}
