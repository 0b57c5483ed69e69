//! The HTTP side of `/socket.io/`: the long-polling GET and POST, the
//! WebSocket upgrade (fresh, or taking over a polling session), and
//! Engine.IO's 400s for anything else.

use std::collections::HashMap;

use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::AggregatedMessage;
use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::engine::EnginePacket;
use crate::polling::{PollError, PollHandle};
use crate::session::{self, Inbound, OUTBOUND_QUEUE, Realtime};
use crate::socket::{PacketKind, SocketPacket};

/// Mounts `/socket.io/`; a [`Realtime`] must be registered as app data.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/socket.io/", web::get().to(get))
        .route("/socket.io/", web::post().to(post))
        .route("/ws", web::get().to(plain));
}

fn engine_error(code: u8, message: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({ "code": code, "message": message }))
}

fn poll_error(error: PollError) -> HttpResponse {
    match error {
        PollError::UnknownSid => engine_error(1, "Session ID unknown"),
        PollError::BadRequest | PollError::Closed => engine_error(3, "Bad request"),
    }
}

struct Params {
    transport: String,
    sid: Option<Uuid>,
}

/// An Engine.IO error: its code and message.
type EngineError = (u8, &'static str);

fn params(req: &HttpRequest) -> Result<Params, EngineError> {
    let query = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    if query.get("EIO").map(String::as_str) != Some("4") {
        return Err((5, "Unsupported protocol version"));
    }
    let transport = query.get("transport").cloned().unwrap_or_default();
    if transport != "websocket" && transport != "polling" {
        return Err((0, "Transport unknown"));
    }
    let sid = match query.get("sid") {
        None => None,
        Some(raw) => Some(Uuid::parse_str(raw).map_err(|_| (1, "Session ID unknown"))?),
    };
    Ok(Params { transport, sid })
}

fn text(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::plaintext())
        .body(body)
}

/// Starts a connection task; returns its ends.
fn open(realtime: &Realtime, upgrades: bool) -> (Uuid, PollHandle) {
    let sid = Uuid::new_v4();
    let (inbound, inbound_rx) = mpsc::channel(64);
    let (out, outbound) = mpsc::channel(OUTBOUND_QUEUE);
    let handle = PollHandle {
        inbound,
        out: out.clone(),
        outbound: std::sync::Arc::new(tokio::sync::Mutex::new(Some(outbound))),
    };
    realtime.polls.insert(sid, handle.clone());
    tokio::spawn(session::run(
        sid,
        inbound_rx,
        out,
        realtime.clone(),
        upgrades,
    ));
    (sid, handle)
}

async fn get(
    req: HttpRequest,
    body: web::Payload,
    realtime: web::Data<Realtime>,
) -> actix_web::Result<HttpResponse> {
    let params = match params(&req) {
        Ok(params) => params,
        Err((code, message)) => return Ok(engine_error(code, message)),
    };
    let wait = realtime.config.ping_interval + realtime.config.ping_timeout;
    match (params.transport.as_str(), params.sid) {
        ("polling", None) => {
            let (_, handle) = open(&realtime, true);
            Ok(handle.poll(wait).await.map_or_else(poll_error, text))
        }
        ("polling", Some(sid)) => match realtime.polls.get(sid) {
            Some(handle) => Ok(handle.poll(wait).await.map_or_else(poll_error, text)),
            None => Ok(poll_error(PollError::UnknownSid)),
        },
        (_, sid) => {
            let existing = match sid {
                Some(sid) => match realtime.polls.get(sid) {
                    Some(handle) => Some(handle),
                    None => return Ok(poll_error(PollError::UnknownSid)),
                },
                None => None,
            };
            let (response, ws, stream) = actix_ws::handle(&req, body)?;
            let realtime = realtime.get_ref().clone();
            actix_web::rt::spawn(websocket(ws, stream, realtime, existing));
            Ok(response)
        }
    }
}

async fn post(req: HttpRequest, body: web::Bytes, realtime: web::Data<Realtime>) -> HttpResponse {
    let params = match params(&req) {
        Ok(params) => params,
        Err((code, message)) => return engine_error(code, message),
    };
    let (Some(sid), "polling") = (params.sid, params.transport.as_str()) else {
        return engine_error(3, "Bad request");
    };
    if body.len() > realtime.config.max_payload {
        return engine_error(3, "Payload too large");
    }
    let Some(handle) = realtime.polls.get(sid) else {
        return poll_error(PollError::UnknownSid);
    };
    let Ok(payload) = std::str::from_utf8(&body) else {
        return engine_error(3, "Bad request");
    };
    match handle.post(payload).await {
        Ok(()) => text("ok".to_owned()),
        Err(error) => poll_error(error),
    }
}

/// A WebSocket: a fresh connection, or the upgrade of a polling one.
async fn websocket(
    mut ws: actix_ws::Session,
    stream: actix_ws::MessageStream,
    realtime: Realtime,
    upgrading: Option<PollHandle>,
) {
    let mut stream = stream
        .max_frame_size(realtime.config.max_payload)
        .aggregate_continuations();
    let handle = match upgrading {
        Some(handle) => {
            if !probe(&mut ws, &mut stream, &handle).await {
                let _ = ws.close(None).await;
                return;
            }
            handle
        }
        None => open(&realtime, false).1,
    };
    let Some(mut outbound) = handle.outbound.lock().await.take() else {
        let _ = ws.close(None).await;
        return;
    };
    loop {
        tokio::select! {
            frame = stream.next() => {
                let inbound = match frame {
                    Some(Ok(AggregatedMessage::Text(text))) => Inbound::Text(text.to_string()),
                    Some(Ok(AggregatedMessage::Binary(_))) => Inbound::Binary,
                    Some(Ok(AggregatedMessage::Ping(bytes))) => {
                        if ws.pong(&bytes).await.is_err() { break; }
                        continue;
                    }
                    Some(Ok(AggregatedMessage::Pong(_))) => continue,
                    Some(Ok(AggregatedMessage::Close(_))) | Some(Err(_)) | None => break,
                };
                if handle.inbound.send(inbound).await.is_err() {
                    break;
                }
            }
            packet = outbound.recv() => match packet {
                Some(packet) => {
                    if ws.text(packet).await.is_err() { break; }
                }
                None => break,
            },
        }
    }
    // Dropping the inbound sender's clone is not enough: tell the connection.
    let _ = handle
        .inbound
        .try_send(Inbound::Text(EnginePacket::Close.encode()));
    let _ = ws.close(None).await;
}

/// The upgrade handshake on the new WebSocket: `2probe` → `3probe`, a noop
/// to release the pending poll, then the client's `5`.
async fn probe(
    ws: &mut actix_ws::Session,
    stream: &mut actix_ws::AggregatedMessageStream,
    handle: &PollHandle,
) -> bool {
    let timeout = std::time::Duration::from_secs(10);
    let Ok(Some(Ok(AggregatedMessage::Text(first)))) =
        tokio::time::timeout(timeout, stream.next()).await
    else {
        return false;
    };
    if EnginePacket::decode(&first) != Ok(EnginePacket::Ping("probe".to_owned())) {
        return false;
    }
    if ws
        .text(EnginePacket::Pong("probe".to_owned()).encode())
        .await
        .is_err()
    {
        return false;
    }
    // A pending GET returns this noop, so the client stops polling.
    let _ = handle.out.try_send(EnginePacket::Noop.encode());
    let Ok(Some(Ok(AggregatedMessage::Text(upgrade)))) =
        tokio::time::timeout(timeout, stream.next()).await
    else {
        return false;
    };
    EnginePacket::decode(&upgrade) == Ok(EnginePacket::Upgrade)
}

/// `/ws?token=…`: a plain WebSocket carrying `{"event": "...", "data": {...}}`
/// frames for clients without Socket.IO. It is the same connection as
/// Socket.IO's behind an adapter: the token becomes the CONNECT, frames
/// become EVENT packets, and the adapter answers the server's pings itself.
async fn plain(
    req: HttpRequest,
    body: web::Payload,
    realtime: web::Data<Realtime>,
) -> actix_web::Result<HttpResponse> {
    let query = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let token = query.get("token").cloned().unwrap_or_default();
    let (response, ws, stream) = actix_ws::handle(&req, body)?;
    let realtime = realtime.get_ref().clone();
    actix_web::rt::spawn(plain_session(ws, stream, realtime, token));
    Ok(response)
}

async fn plain_session(
    mut ws: actix_ws::Session,
    stream: actix_ws::MessageStream,
    realtime: Realtime,
    token: String,
) {
    let mut stream = stream
        .max_frame_size(realtime.config.max_payload)
        .aggregate_continuations();
    let (_, handle) = open(&realtime, false);
    let Some(mut outbound) = handle.outbound.lock().await.take() else {
        return;
    };
    let connect = SocketPacket {
        kind: PacketKind::Connect,
        namespace: "/".to_owned(),
        ack_id: None,
        data: Some(json!({ "token": token })),
    };
    if handle
        .inbound
        .send(Inbound::Text(
            EnginePacket::Message(connect.encode()).encode(),
        ))
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
                    if handle.inbound.send(Inbound::Text(EnginePacket::Message(packet.encode()).encode())).await.is_err() {
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
                let Some(packet) = packet else { break };
                match EnginePacket::decode(&packet) {
                    Ok(EnginePacket::Ping(_)) => {
                        let _ = handle.inbound.try_send(Inbound::Text(EnginePacket::Pong(String::new()).encode()));
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
    let _ = handle
        .inbound
        .try_send(Inbound::Text(EnginePacket::Close.encode()));
    let _ = ws.close(None).await;
}
