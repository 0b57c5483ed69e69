//! Socket.IO v5 packets (text form): a type digit, for binary packets the
//! number of attachments and `-`, the namespace when it is not `/`
//! (`/admin,`), an optional ack id, then JSON. The attachments of a binary
//! packet follow it as binary Engine.IO messages, in order, each standing
//! for a `{"_placeholder":true,"num":n}` in the JSON.

use serde_json::Value;

/// The packet types of Socket.IO v5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketKind {
    /// `0`: connect to a namespace (with the auth payload).
    Connect,
    /// `1`: leave a namespace.
    Disconnect,
    /// `2`: an event `[name, ...args]`.
    Event,
    /// `3`: the answer to an event that asked for one.
    Ack,
    /// `4`: the server refuses a connect.
    ConnectError,
    /// `5`: an event with binary attachments.
    BinaryEvent,
    /// `6`: an ack with binary attachments.
    BinaryAck,
}

/// One Socket.IO packet.
#[derive(Debug, Clone, PartialEq)]
pub struct SocketPacket {
    /// Its type.
    pub kind: PacketKind,
    /// Its namespace (`/` by default).
    pub namespace: String,
    /// The ack id, when the sender wants an answer (or this is the answer).
    pub ack_id: Option<u64>,
    /// The JSON data, if any.
    pub data: Option<Value>,
    /// For BINARY_EVENT and BINARY_ACK: how many attachments follow.
    pub attachments: usize,
}

/// Most attachments one binary packet may announce.
pub const MAX_ATTACHMENTS: usize = 256;

/// A packet that is not Socket.IO.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed socket.io packet: {0}")]
pub struct MalformedSocketPacket(pub &'static str);

impl SocketPacket {
    /// An EVENT `[name, data]` on `/`.
    pub fn event(name: &str, data: Value) -> Self {
        Self::of(
            PacketKind::Event,
            "/",
            Some(Value::Array(vec![Value::String(name.to_owned()), data])),
        )
    }

    /// A packet of `kind` on `namespace`, without ack id or attachments.
    pub fn of(kind: PacketKind, namespace: &str, data: Option<Value>) -> Self {
        Self {
            kind,
            namespace: namespace.to_owned(),
            ack_id: None,
            data,
            attachments: 0,
        }
    }

    /// Parses the text after the Engine.IO `4`.
    pub fn decode(text: &str) -> Result<Self, MalformedSocketPacket> {
        let mut rest = text;
        let kind = match rest.chars().next() {
            Some('0') => PacketKind::Connect,
            Some('1') => PacketKind::Disconnect,
            Some('2') => PacketKind::Event,
            Some('3') => PacketKind::Ack,
            Some('4') => PacketKind::ConnectError,
            Some('5') => PacketKind::BinaryEvent,
            Some('6') => PacketKind::BinaryAck,
            _ => return Err(MalformedSocketPacket("unknown packet type")),
        };
        rest = &rest[1..];
        let mut attachments = 0;
        if matches!(kind, PacketKind::BinaryEvent | PacketKind::BinaryAck) {
            // `<count>-` precedes the rest; the attachments follow as binary frames.
            let dash = rest.find('-').ok_or(MalformedSocketPacket(
                "binary packet without attachment count",
            ))?;
            attachments = rest[..dash]
                .parse::<usize>()
                .ok()
                .filter(|count| *count <= MAX_ATTACHMENTS)
                .ok_or(MalformedSocketPacket("bad attachment count"))?;
            rest = &rest[dash + 1..];
        }
        let mut namespace = "/".to_owned();
        if rest.starts_with('/') {
            let end = rest.find(',').unwrap_or(rest.len());
            namespace = rest[..end].to_owned();
            rest = rest.get(end + 1..).unwrap_or("");
        }
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let ack_id = if digits > 0 {
            Some(
                rest[..digits]
                    .parse()
                    .map_err(|_| MalformedSocketPacket("ack id out of range"))?,
            )
        } else {
            None
        };
        rest = &rest[digits..];
        let data = if rest.is_empty() {
            None
        } else {
            Some(
                serde_json::from_str(rest)
                    .map_err(|_| MalformedSocketPacket("payload is not JSON"))?,
            )
        };
        let packet = Self {
            kind,
            namespace,
            ack_id,
            data,
            attachments,
        };
        packet.check()?;
        Ok(packet)
    }

    fn check(&self) -> Result<(), MalformedSocketPacket> {
        use PacketKind::{Ack, BinaryAck, BinaryEvent, Connect, Disconnect, Event};
        match (self.kind, &self.data) {
            (Event | BinaryEvent, Some(Value::Array(items)))
                if matches!(items.first(), Some(Value::String(_))) =>
            {
                Ok(())
            }
            (Event | BinaryEvent, _) => {
                Err(MalformedSocketPacket("an event must be [name, ...args]"))
            }
            (Ack | BinaryAck, Some(Value::Array(_))) if self.ack_id.is_some() => Ok(()),
            (Ack | BinaryAck, _) => Err(MalformedSocketPacket("an ack needs an id and an array")),
            (Connect, None | Some(Value::Object(_))) => Ok(()),
            (Connect, _) => Err(MalformedSocketPacket("connect data must be an object")),
            (Disconnect, None) => Ok(()),
            (Disconnect, _) => Err(MalformedSocketPacket("a disconnect has no data")),
            _ => Ok(()),
        }
    }

    /// The text form (to follow the Engine.IO `4`).
    pub fn encode(&self) -> String {
        let kind = match self.kind {
            PacketKind::Connect => '0',
            PacketKind::Disconnect => '1',
            PacketKind::Event => '2',
            PacketKind::Ack => '3',
            PacketKind::ConnectError => '4',
            PacketKind::BinaryEvent => '5',
            PacketKind::BinaryAck => '6',
        };
        let mut out = String::new();
        out.push(kind);
        if matches!(self.kind, PacketKind::BinaryEvent | PacketKind::BinaryAck) {
            out.push_str(&self.attachments.to_string());
            out.push('-');
        }
        if self.namespace != "/" {
            out.push_str(&self.namespace);
            out.push(',');
        }
        if let Some(id) = self.ack_id {
            out.push_str(&id.to_string());
        }
        if let Some(data) = &self.data {
            out.push_str(&data.to_string());
        }
        out
    }

    /// For an EVENT: its name and first argument.
    pub fn event_parts(&self) -> Option<(&str, &Value)> {
        let Some(Value::Array(items)) = &self.data else {
            return None;
        };
        let name = items.first()?.as_str()?;
        Some((name, items.get(1).unwrap_or(&Value::Null)))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_packets_of_the_protocol_examples_parse() {
        let connect = SocketPacket::decode(r#"0{"token":"abc"}"#).unwrap();
        assert_eq!(connect.kind, PacketKind::Connect);
        assert_eq!(connect.data, Some(json!({"token": "abc"})));
        let custom = SocketPacket::decode("0/admin,").unwrap();
        assert_eq!(custom.namespace, "/admin");
        let event = SocketPacket::decode(r#"212["join_booking","o-1"]"#).unwrap();
        assert_eq!(event.ack_id, Some(12));
        assert_eq!(event.event_parts(), Some(("join_booking", &json!("o-1"))));
        let ack = SocketPacket::decode(r#"3/admin,7["ok"]"#).unwrap();
        assert_eq!(
            (ack.kind, ack.namespace.as_str(), ack.ack_id),
            (PacketKind::Ack, "/admin", Some(7))
        );
        let binary = SocketPacket::decode(r#"51-["up",{"_placeholder":true,"num":0}]"#).unwrap();
        assert_eq!(
            (binary.kind, binary.attachments),
            (PacketKind::BinaryEvent, 1)
        );
        let binary_ack =
            SocketPacket::decode(r#"62-/custom,789[{"_placeholder":true,"num":0}]"#).unwrap();
        assert_eq!(
            (
                binary_ack.kind,
                binary_ack.namespace.as_str(),
                binary_ack.ack_id,
                binary_ack.attachments
            ),
            (PacketKind::BinaryAck, "/custom", Some(789), 2)
        );
    }

    #[test]
    fn encoding_round_trips() {
        for text in [
            r#"2["pong",{"t":1}]"#,
            r#"0{"sid":"x"}"#,
            r#"4{"message":"bad token"}"#,
            "1",
            r#"3/a,5[1]"#,
            r#"52-["m",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
            r#"62-789[{"_placeholder":true,"num":0}]"#,
        ] {
            assert_eq!(SocketPacket::decode(text).unwrap().encode(), text);
        }
        assert_eq!(
            SocketPacket::event("connected", json!({"a": 1})).encode(),
            r#"2["connected",{"a":1}]"#
        );
    }

    #[test]
    fn malformed_packets_are_refused() {
        for text in [
            "",
            "9",
            "2",
            r#"2{"a":1}"#,
            "2[1,2]",
            "3[1]",
            "2[\"x\"",
            "0[1]",
            "5[\"a\"]",
            "5x-[\"a\"]",
            "5999-[\"a\"]",
            "2abc[\"m\"]",
            "1{}",
        ] {
            assert!(SocketPacket::decode(text).is_err(), "{text}");
        }
    }
}
