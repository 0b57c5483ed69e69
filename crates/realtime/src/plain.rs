//! `/ws?token=…`: a plain WebSocket carrying `{"event": "...", "data": {...}}`
//! frames for clients without Socket.IO, on the same connection code as
//! Socket.IO behind an adapter.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::AggregatedMessage;
use futures_util::StreamExt;
use serde_json::json;

use crate::engine::{EnginePacket, Frame};
use crate::limits::SessionPermit;
use crate::polling::Transport;
use crate::routes::{admit, close, messages, open};
use crate::session::{Inbound, Realtime};
use crate::socket::{PacketKind, SocketPacket};

/// `/ws?token=…`: a plain WebSocket carrying `{"event": "...", "data": {...}}`
/// frames for clients without Socket.IO. It is the same connection as
/// Socket.IO's behind an adapter: the token becomes the CONNECT, frames
/// become EVENT packets, and the adapter answers the server's pings itself.
pub(crate) async fn plain(
    req: HttpRequest,
    body: web::Payload,
    realtime: web::Data<Realtime>,
) -> actix_web::Result<HttpResponse> {
    let query = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let token = query.get("token").cloned().unwrap_or_default();
    let permit = match admit(&req, &realtime) {
        Ok(permit) => permit,
        Err(refused) => return Ok(*refused.0),
    };
    let (response, ws, stream) = actix_ws::handle(&req, body)?;
    let realtime = realtime.get_ref().clone();
    actix_web::rt::spawn(plain_session(ws, stream, realtime, token, permit));
    Ok(response)
}

async fn plain_session(
    mut ws: actix_ws::Session,
    stream: actix_ws::MessageStream,
    realtime: Realtime,
    token: String,
    permit: SessionPermit,
) {
    let mut stream = messages(stream, &realtime);
    let (_, handle) = open(&realtime, Transport::WebSocket, permit);
    let Some((mut outbound, inbound)) = handle.take_over().await else {
        return;
    };
    let connect = SocketPacket::of(PacketKind::Connect, "/", Some(json!({ "token": token })));
    if inbound
        .send(Inbound::Packet(EnginePacket::Message(connect.encode())))
        .await
        .is_err()
    {
        return;
    }
    loop {
        tokio::select! {
            frame = stream.next() => match frame {
                Some(Ok(AggregatedMessage::Text(text))) => {
                    let packet = serde_json::from_str::<serde_json::Value>(&text).ok().and_then(|frame| {
                        let name = frame.get("event")?.as_str()?.to_owned();
                        let data = frame.get("data").cloned().unwrap_or(serde_json::Value::Null);
                        Some(SocketPacket::event(&name, data))
                    });
                    let Some(packet) = packet else { break };
                    if inbound.send(Inbound::Packet(EnginePacket::Message(packet.encode()))).await.is_err() {
                        break;
                    }
                }
                Some(Ok(AggregatedMessage::Ping(bytes))) => {
                    if ws.pong(&bytes).await.is_err() { break; }
                }
                Some(Ok(AggregatedMessage::Pong(_))) => {}
                Some(Ok(AggregatedMessage::Binary(_) | AggregatedMessage::Close(_))) | Some(Err(_)) | None => break,
            },
            packet = outbound.recv() => {
                let Some(Frame::Text(packet)) = packet else { break };
                match EnginePacket::decode(&packet) {
                    Ok(EnginePacket::Ping(_)) => {
                        let _ = inbound.try_send(Inbound::Packet(EnginePacket::Pong(String::new())));
                    }
                    Ok(EnginePacket::Message(body)) => {
                        let Ok(socket) = SocketPacket::decode(&body) else { continue };
                        let frame = match socket.kind {
                            PacketKind::Event => socket.event_parts().map(|(name, data)| json!({ "event": name, "data": data })),
                            PacketKind::ConnectError => Some(json!({ "event": "error", "data": socket.data })),
                            _ => None,
                        };
                        if let Some(frame) = frame
                            && ws.text(frame.to_string()).await.is_err()
                        {
                            break;
                        }
                        if socket.kind == PacketKind::ConnectError {
                            break;
                        }
                    }
                    Ok(EnginePacket::Close) => break,
                    _ => {}
                }
            }
        }
    }
    let _ = inbound.try_send(Inbound::Packet(EnginePacket::Close));
    close(ws).await;
}
