//! Engine.IO v4 packets (text form): the one-character type, then the data.
//! Over HTTP long-polling several packets travel in one payload, separated
//! by the record separator `\x1e`.

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
    /// `4data`: a message (carries a Socket.IO packet).
    Message(String),
    /// `5`: the client completes an upgrade.
    Upgrade,
    /// `6`: nothing (ends a pending poll during an upgrade).
    Noop,
}

/// A packet the protocol does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed engine.io packet")]
pub struct MalformedPacket;

/// The record separator between packets of a polling payload.
pub const SEPARATOR: char = '\u{1e}';

impl EnginePacket {
    /// Parses one text packet.
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
            _ => return Err(MalformedPacket),
        })
    }

    /// The text form.
    pub fn encode(&self) -> String {
        match self {
            Self::Open(data) => format!("0{data}"),
            Self::Close => "1".to_owned(),
            Self::Ping(data) => format!("2{data}"),
            Self::Pong(data) => format!("3{data}"),
            Self::Message(data) => format!("4{data}"),
            Self::Upgrade => "5".to_owned(),
            Self::Noop => "6".to_owned(),
        }
    }
}

/// Splits a polling payload into packets.
pub fn decode_payload(payload: &str) -> Result<Vec<EnginePacket>, MalformedPacket> {
    payload.split(SEPARATOR).map(EnginePacket::decode).collect()
}

/// Joins packets into a polling payload.
pub fn encode_payload(packets: &[EnginePacket]) -> String {
    let mut out = String::new();
    for (index, packet) in packets.iter().enumerate() {
        if index > 0 {
            out.push(SEPARATOR);
        }
        out.push_str(&packet.encode());
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
            EnginePacket::Upgrade,
            EnginePacket::Noop,
        ];
        for packet in &packets {
            assert_eq!(EnginePacket::decode(&packet.encode()).as_ref(), Ok(packet));
        }
        let payload = encode_payload(&packets);
        assert_eq!(decode_payload(&payload).unwrap(), packets);
    }

    #[test]
    fn unknown_types_and_empty_packets_are_malformed() {
        assert_eq!(EnginePacket::decode(""), Err(MalformedPacket));
        assert_eq!(EnginePacket::decode("7"), Err(MalformedPacket));
        assert_eq!(EnginePacket::decode("x"), Err(MalformedPacket));
        assert!(decode_payload("4a\u{1e}9").is_err());
    }
}
