//! Engine.IO v4 packets. A text packet is a one-character type and its data;
//! a binary message is a WebSocket binary frame, or `b` and its base64 inside
//! a long-polling payload, where packets are separated by `\x1e`.

use actix_web::web::Bytes;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytestring::ByteString;

/// The packet types of Engine.IO v4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnginePacket {
    /// `0{json}`: the handshake the server sends first.
    Open(String),
    /// `1`: either side closes.
    Close,
    /// `2[data]`: the server's heartbeat (or the client's upgrade probe).
    Ping(String),
    /// `3[data]`: the answer to a ping.
    Pong(String),
    /// `4data`: a text message (carries a Socket.IO packet).
    Message(String),
    /// A binary message (a Socket.IO attachment).
    Binary(Bytes),
    /// `5`: the client completes an upgrade.
    Upgrade,
    /// `6`: nothing (ends a pending poll during an upgrade or a close).
    Noop,
}

/// A packet the protocol does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed engine.io packet")]
pub struct MalformedPacket;

/// The record separator between packets of a polling payload.
pub const SEPARATOR: char = '\u{1e}';

/// What a transport carries: a WebSocket text or binary frame. Text is a
/// [`ByteString`], so one encoded event is shared by every socket it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text packet.
    Text(ByteString),
    /// A binary message.
    Binary(Bytes),
    /// A WebSocket pong answering the client's WebSocket ping (not an
    /// Engine.IO packet: only a WebSocket queues one, and a poll skips it).
    Pong(Bytes),
}

impl EnginePacket {
    /// Parses one text packet (`b…` is a base64 binary message).
    pub fn decode(text: &str) -> Result<Self, MalformedPacket> {
        let mut chars = text.chars();
        let kind = chars.next().ok_or(MalformedPacket)?;
        let data = chars.as_str();
        Ok(match kind {
            '0' => Self::Open(data.to_owned()),
            '1' => Self::Close,
            '2' => Self::Ping(data.to_owned()),
            '3' => Self::Pong(data.to_owned()),
            '4' => Self::Message(data.to_owned()),
            '5' => Self::Upgrade,
            '6' => Self::Noop,
            'b' => Self::Binary(Bytes::from(
                BASE64.decode(data).map_err(|_| MalformedPacket)?,
            )),
            _ => return Err(MalformedPacket),
        })
    }

    /// The text form (binary as `b` and base64, as polling carries it).
    pub fn encode(&self) -> String {
        match self {
            Self::Open(data) => format!("0{data}"),
            Self::Close => "1".to_owned(),
            Self::Ping(data) => format!("2{data}"),
            Self::Pong(data) => format!("3{data}"),
            Self::Message(data) => format!("4{data}"),
            Self::Binary(bytes) => format!("b{}", BASE64.encode(bytes)),
            Self::Upgrade => "5".to_owned(),
            Self::Noop => "6".to_owned(),
        }
    }

    /// The WebSocket frame of it.
    pub fn frame(self) -> Frame {
        match self {
            Self::Binary(bytes) => Frame::Binary(bytes),
            text => Frame::Text(ByteString::from(text.encode())),
        }
    }
}

impl Frame {
    /// Appends its polling form to `payload`.
    fn push_to(&self, payload: &mut String) {
        match self {
            Self::Text(text) => payload.push_str(text),
            Self::Binary(bytes) => {
                payload.push('b');
                BASE64.encode_string(bytes, payload);
            }
            Self::Pong(_) => {}
        }
    }
}

/// Splits a polling payload into packets.
pub fn decode_payload(payload: &str) -> Result<Vec<EnginePacket>, MalformedPacket> {
    payload.split(SEPARATOR).map(EnginePacket::decode).collect()
}

/// Joins frames into a polling payload.
pub fn encode_payload(frames: &[Frame]) -> String {
    let mut out = String::new();
    let packets = frames
        .iter()
        .filter(|frame| !matches!(frame, Frame::Pong(_)));
    for (index, frame) in packets.enumerate() {
        if index > 0 {
            out.push(SEPARATOR);
        }
        frame.push_to(&mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_packet_round_trips() {
        let packets = [
            EnginePacket::Open(r#"{"sid":"a"}"#.to_owned()),
            EnginePacket::Close,
            EnginePacket::Ping(String::new()),
            EnginePacket::Ping("probe".to_owned()),
            EnginePacket::Pong("probe".to_owned()),
            EnginePacket::Message(r#"2["hello",1]"#.to_owned()),
            EnginePacket::Binary(Bytes::from_static(&[1, 2, 3, 4])),
            EnginePacket::Upgrade,
            EnginePacket::Noop,
        ];
        for packet in &packets {
            assert_eq!(EnginePacket::decode(&packet.encode()).as_ref(), Ok(packet));
        }
        let frames: Vec<Frame> = packets.iter().cloned().map(EnginePacket::frame).collect();
        let payload = encode_payload(&frames);
        assert_eq!(decode_payload(&payload).unwrap(), packets);
    }

    #[test]
    fn binary_goes_as_base64_in_a_payload_and_as_a_binary_frame_on_a_websocket() {
        let payload = "4hello\u{1e}bAQIDBA==";
        let packets = decode_payload(payload).unwrap();
        assert_eq!(
            packets,
            [
                EnginePacket::Message("hello".to_owned()),
                EnginePacket::Binary(Bytes::from_static(&[1, 2, 3, 4])),
            ]
        );
        let frames: Vec<Frame> = packets.into_iter().map(EnginePacket::frame).collect();
        assert_eq!(frames[1], Frame::Binary(Bytes::from_static(&[1, 2, 3, 4])));
        assert_eq!(encode_payload(&frames), payload);
    }

    #[test]
    fn unknown_types_empty_packets_and_bad_base64_are_malformed() {
        assert_eq!(EnginePacket::decode(""), Err(MalformedPacket));
        assert_eq!(EnginePacket::decode("7"), Err(MalformedPacket));
        assert_eq!(EnginePacket::decode("x"), Err(MalformedPacket));
        assert_eq!(EnginePacket::decode("b!!"), Err(MalformedPacket));
        assert!(decode_payload("4a\u{1e}9").is_err());
    }
}
