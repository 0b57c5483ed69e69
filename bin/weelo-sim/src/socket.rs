//! A Socket.IO v5 client over the Engine.IO v4 WebSocket transport, as the
//! captain app connects (WebSocket only, `auth.token`): it answers pings,
//! hands every event to a channel with its arrival time, and can emit.

use std::time::Instant;

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// A WebSocket connection as the simulator opens them.
pub type WebSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a WebSocket to `url` with a 4 KiB read buffer. tungstenite's
/// default is 128 KiB, and it zeroes the part of it a read may fill before
/// every read: with thousands of sockets each hearing one event, that memset
/// was a quarter of the load tool's CPU, on the same two cores as the server.
pub async fn connect_websocket(url: &str) -> anyhow::Result<WebSocket> {
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(4 * 1024);
    let (stream, _) =
        tokio_tungstenite::connect_async_with_config(url, Some(config), false).await?;
    Ok(stream)
}

/// An event the server sent: name, data, when it arrived.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// The event name.
    pub name: String,
    /// Its data.
    pub data: Value,
    /// When this process read it.
    pub at: Instant,
}

/// A connected socket; dropping it closes the connection.
pub struct Socket {
    out: mpsc::UnboundedSender<String>,
}

impl Socket {
    /// Connects to `base` (`http://host:port`) with `token`; events go to
    /// `events` until the connection ends.
    pub async fn connect(
        base: &str,
        token: &str,
        events: mpsc::UnboundedSender<Incoming>,
    ) -> anyhow::Result<Self> {
        let url = format!(
            "{}/socket.io/?EIO=4&transport=websocket",
            base.replacen("http", "ws", 1)
        );
        let stream = connect_websocket(&url).await.context("socket connect")?;
        let (mut sink, mut source) = stream.split();
        let open = next_text(&mut source).await?;
        if !open.starts_with('0') {
            bail!("expected the Engine.IO open packet, got {open}");
        }
        let hello = format!("40{}", json!({ "token": token }));
        sink.send(Message::Text(hello.into())).await?;
        let connected = next_text(&mut source).await?;
        if !connected.starts_with("40") {
            bail!("socket refused: {connected}");
        }
        let (out, mut outgoing) = mpsc::unbounded_channel::<String>();
        let pong = out.clone();
        tokio::spawn(async move {
            while let Some(text) = outgoing.recv().await {
                if sink.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        });
        tokio::spawn(async move {
            while let Some(Ok(message)) = source.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                let text = text.as_str();
                if text == "2" {
                    if pong.send("3".to_owned()).is_err() {
                        break;
                    }
                } else if let Some(body) = text.strip_prefix("42")
                    && let Ok(Value::Array(mut parts)) = serde_json::from_str::<Value>(body)
                    && !parts.is_empty()
                {
                    let data = if parts.len() > 1 {
                        parts.remove(1)
                    } else {
                        Value::Null
                    };
                    let name = parts[0].as_str().unwrap_or_default().to_owned();
                    let incoming = Incoming {
                        name,
                        data,
                        at: Instant::now(),
                    };
                    if events.send(incoming).is_err() {
                        break;
                    }
                }
            }
        });
        Ok(Self { out })
    }

    /// Emits `name` with `data`; `false` once the connection is gone.
    pub fn emit(&self, name: &str, data: &Value) -> bool {
        self.out.send(format!("42{}", json!([name, data]))).is_ok()
    }
}

async fn next_text<S>(source: &mut S) -> anyhow::Result<String>
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        match source.next().await {
            Some(Ok(Message::Text(text))) => return Ok(text.as_str().to_owned()),
            Some(Ok(_)) => continue,
            Some(Err(error)) => return Err(error.into()),
            None => bail!("the socket closed during the handshake"),
        }
    }
}
