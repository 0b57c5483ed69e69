//! The HTTP side of Engine.IO: the long-polling GET and POST, the WebSocket
//! (fresh, or taking over a polling session after the probe), and the 400s
//! the protocol gives for a bad `EIO`, transport, sid, method or packet.

use std::collections::HashMap;

use actix_web::body::MessageBody;
use actix_web::http::Method;
use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, Resource, web};
use actix_ws::AggregatedMessage;
use futures_util::StreamExt;
use serde_json::json;
use uuid::Uuid;

use crate::body::QueueBody;
use crate::engine::{EnginePacket, Frame};
use crate::limits::SessionPermit;
use crate::polling::{PollError, PollHandle, Transport};
use crate::queue;
use crate::session::{self, Connection, Flow, Inbound, Realtime};

/// Client packets a connection may have waiting; a transport with more
/// waits for the session (WebSocket reads pause, a POST waits).
const INBOUND_QUEUE: usize = 64;

/// Mounts `/socket.io/` and `/ws`; a [`Realtime`] must be registered as app data.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/socket.io/"))
        .route("/ws", web::get().to(crate::plain::plain));
}

/// Mounts an Engine.IO endpoint at `path` served by its own `realtime`
/// (the conformance server has `/engine.io/` and `/socket.io/`).
pub fn mount(path: &str, realtime: Realtime) -> impl FnOnce(&mut web::ServiceConfig) + '_ {
    move |cfg| {
        cfg.service(resource(path).app_data(web::Data::new(realtime)));
    }
}

fn resource(path: &str) -> Resource {
    web::resource(path)
        .route(web::get().to(get))
        .route(web::post().to(post))
        .default_service(web::to(other_method))
}

/// Engine.IO's error answer.
fn engine_error(code: u8, message: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({ "code": code, "message": message }))
}

/// A place for a new session under the caps, or Engine.IO's refusal
/// (`403 {"code":4,"message":"Forbidden"}`, as engine.io answers a handshake
/// its `allowRequest` refuses).
pub(crate) fn admit(req: &HttpRequest, realtime: &Realtime) -> Result<SessionPermit, Refused> {
    let client = (realtime.client_address)(req);
    realtime.guard.open_session(client).ok_or_else(|| {
        tracing::debug!("engine.io handshake refused: session cap reached");
        Refused(Box::new(
            HttpResponse::Forbidden().json(json!({ "code": 4, "message": "Forbidden" })),
        ))
    })
}

/// The answer to a handshake the caps refuse.
pub(crate) struct Refused(pub(crate) Box<HttpResponse>);

async fn other_method(req: HttpRequest) -> HttpResponse {
    if req.method() == Method::OPTIONS {
        // A CORS preflight: the headers are the application's middleware's.
        return HttpResponse::NoContent().finish();
    }
    engine_error(2, "Bad handshake method")
}

fn poll_error(error: PollError) -> HttpResponse {
    match error {
        PollError::UnknownSid => engine_error(1, "Session ID unknown"),
        PollError::BadRequest | PollError::Overlap | PollError::Malformed | PollError::Closed => {
            engine_error(3, "Bad request")
        }
    }
}

struct Params {
    transport: Transport,
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
    let transport = match query.get("transport").map(String::as_str) {
        Some("polling") => Transport::Polling,
        Some("websocket") => Transport::WebSocket,
        _ => return Err((0, "Transport unknown")),
    };
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

/// Starts a connection task on `transport`; returns its ends.
pub(crate) fn open(
    realtime: &Realtime,
    transport: Transport,
    permit: SessionPermit,
) -> (Uuid, PollHandle) {
    let sid = Uuid::new_v4();
    let (inbound, inbound_rx) = queue::channel(INBOUND_QUEUE);
    let (out, outbound) = queue::channel(realtime.hub.queue_size());
    let handle = PollHandle::new(inbound, out.clone(), outbound, transport);
    if transport == Transport::Polling {
        // Later requests find it by sid; a session opened on a WebSocket is
        // never reached another way.
        realtime.polls.insert(sid, handle.clone());
    }
    tokio::spawn(session::run(
        sid,
        inbound_rx,
        out,
        realtime.clone(),
        transport == Transport::Polling,
        permit,
    ));
    (sid, handle)
}

/// A poll's answer; a protocol error closes the session.
async fn poll(realtime: &Realtime, sid: Uuid, handle: &PollHandle) -> HttpResponse {
    let wait = realtime.config.ping_interval + realtime.config.ping_timeout;
    match handle.poll(wait).await {
        Ok(payload) => {
            if handle.ended() {
                realtime.polls.remove(sid);
            }
            text(payload)
        }
        Err(error) => {
            if matches!(error, PollError::Overlap) {
                realtime.polls.fail(sid, handle);
            }
            poll_error(error)
        }
    }
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
    let existing = match params.sid {
        Some(sid) => match realtime.polls.get(sid) {
            Some(handle) => Some((sid, handle)),
            None => return Ok(poll_error(PollError::UnknownSid)),
        },
        None => None,
    };
    match (params.transport, existing) {
        (Transport::Polling, None) => {
            let permit = match admit(&req, &realtime) {
                Ok(permit) => permit,
                Err(refused) => return Ok(*refused.0),
            };
            let (sid, handle) = open(&realtime, Transport::Polling, permit);
            Ok(poll(&realtime, sid, &handle).await)
        }
        (Transport::Polling, Some((sid, handle))) => Ok(poll(&realtime, sid, &handle).await),
        (_, existing) => {
            let permit = match existing {
                Some(_) => None,
                None => match admit(&req, &realtime) {
                    Ok(permit) => Some(permit),
                    Err(refused) => return Ok(*refused.0),
                },
            };
            let (response, ws, stream) = actix_ws::handle(&req, body)?;
            match existing {
                // Only one WebSocket may take a session over: any other is
                // accepted and closed, as Engine.IO does.
                Some((_, handle)) if !handle.begin_upgrade() => {
                    actix_web::rt::spawn(close(ws));
                }
                Some((_, handle)) => {
                    // The session's frames go from its queue straight into
                    // the response once the probe has handed it over.
                    let (hand_over, handed_over) = tokio::sync::oneshot::channel();
                    let response = response.map_body(|_, actix_ws_body| {
                        QueueBody::after_upgrade(handed_over, actix_ws_body).boxed()
                    });
                    actix_web::rt::spawn(upgrade(ws, stream, realtime, handle, hand_over));
                    return Ok(response);
                }
                None => {
                    let Some(permit) = permit else {
                        return Ok(engine_error(3, "Bad request"));
                    };
                    // Frames go from the queue straight into the response.
                    let (out, frames) = queue::channel(realtime.hub.queue_size());
                    let response = response
                        .map_body(|_, actix_ws_body| QueueBody::new(frames, actix_ws_body).boxed());
                    // The body writes everything, pongs included.
                    drop(ws);
                    actix_web::rt::spawn(websocket(stream, realtime, out, permit));
                    return Ok(response);
                }
            }
            Ok(response)
        }
    }
}

async fn post(req: HttpRequest, body: web::Bytes, realtime: web::Data<Realtime>) -> HttpResponse {
    let params = match params(&req) {
        Ok(params) => params,
        Err((code, message)) => return engine_error(code, message),
    };
    let (Some(sid), Transport::Polling) = (params.sid, params.transport) else {
        return engine_error(3, "Bad request");
    };
    let Some(handle) = realtime.polls.get(sid) else {
        return poll_error(PollError::UnknownSid);
    };
    if body.len() > realtime.config.max_payload {
        realtime.polls.fail(sid, &handle);
        return engine_error(3, "Payload too large");
    }
    let Ok(payload) = std::str::from_utf8(&body) else {
        realtime.polls.fail(sid, &handle);
        return engine_error(3, "Bad request");
    };
    match handle.post(payload).await {
        Ok(()) => text("ok".to_owned()),
        Err(error) => {
            if matches!(error, PollError::Malformed) {
                realtime.polls.fail(sid, &handle);
            }
            poll_error(error)
        }
    }
}

/// A polling session taken over by a WebSocket after the probe.
async fn upgrade(
    mut ws: actix_ws::Session,
    stream: actix_ws::MessageStream,
    realtime: web::Data<Realtime>,
    handle: PollHandle,
    hand_over: HandOver,
) {
    let mut stream = messages(stream, &realtime);
    if !probe(&mut ws, &mut stream, &handle).await {
        handle.end_upgrade(false);
        close(ws).await;
        return;
    }
    handle.end_upgrade(true);
    if handle.outbound.try_lock().is_err() {
        // A poll still waits: end it, so the WebSocket can take the queue.
        let _ = handle.out.try_send(EnginePacket::Noop.frame());
    }
    carry(ws, stream, handle, hand_over).await;
}

/// Gives a WebSocket's response body the session's queue after the probe.
type HandOver = tokio::sync::oneshot::Sender<queue::Receiver<Frame>>;

/// A connection opened on a WebSocket, which never changes transport: one
/// task reads the socket and runs the connection's timers (no sid to find
/// it by, no inbound queue). What the connection sends goes into `out`,
/// which the response body ([`QueueBody`]) drains and writes; the socket
/// closes once the connection and the hub have let go of it.
///
/// Every idle socket's task is as large as this future's largest state, so
/// only the wait is inline: what a wake-up leads to (a packet handled, a
/// pong) is boxed while it runs, and what woke the task is out of scope
/// before that runs. `realtime` is the shared handle.
async fn websocket(
    stream: actix_ws::MessageStream,
    realtime: web::Data<Realtime>,
    out: queue::Sender<Frame>,
    permit: SessionPermit,
) {
    let mut stream = messages(stream, &realtime);
    let (mut connection, mut flow) =
        Connection::open(Uuid::new_v4(), out, &realtime, false, permit);
    // Which source is looked at first on this wake-up: taken in turn, so a
    // flood from the client never keeps the timers waiting.
    let mut client_first = false;
    while flow == Flow::Continue {
        client_first = !client_first;
        let reacting = {
            let woken =
                std::future::poll_fn(|cx| wake_up(cx, client_first, &mut stream, &mut connection))
                    .await;
            react(woken, &mut connection)
        };
        flow = reacting.await;
    }
    connection.end(flow, &realtime);
}

/// What woke an idle WebSocket connection.
enum Woken {
    /// The client's next message, or the end of its stream.
    Message(Option<Result<AggregatedMessage, actix_ws::ProtocolError>>),
    /// A timer ran (a ping, a missed deadline, the hub's eviction).
    Timer(Flow),
}

/// Polls a WebSocket connection's two sources, the client's first or not.
fn wake_up(
    cx: &mut std::task::Context<'_>,
    client_first: bool,
    stream: &mut actix_ws::AggregatedMessageStream,
    connection: &mut Connection,
) -> std::task::Poll<Woken> {
    use std::task::Poll;
    for client in [client_first, !client_first] {
        let woken = if client {
            stream.poll_next_unpin(cx).map(Woken::Message)
        } else {
            connection.poll_timers(cx).map(Woken::Timer)
        };
        if woken.is_ready() {
            return woken;
        }
    }
    Poll::Pending
}

/// What a wake-up leads to, boxed for as long as it runs.
fn react<'a>(
    woken: Woken,
    connection: &'a mut Connection,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Flow> + 'a>> {
    Box::pin(async move {
        let message = match woken {
            Woken::Timer(flow) => return flow,
            Woken::Message(message) => message,
        };
        match from_client(message) {
            FromClient::Packet(packet) => connection.on_inbound(Some(packet)).await,
            FromClient::Ping(bytes) => connection.outbox().frame(Frame::Pong(bytes)),
            FromClient::Nothing => Flow::Continue,
            FromClient::Gone => Flow::ClientClosed,
        }
    })
}

/// What a client's WebSocket message is to its connection.
enum FromClient {
    /// An Engine.IO packet, or something that is not one.
    Packet(Inbound),
    /// A WebSocket ping: its pong is due.
    Ping(actix_web::web::Bytes),
    /// A WebSocket pong: nothing to do.
    Nothing,
    /// The client closed, or its stream failed or ended.
    Gone,
}

fn from_client(message: Option<Result<AggregatedMessage, actix_ws::ProtocolError>>) -> FromClient {
    match message {
        Some(Ok(AggregatedMessage::Text(text))) => FromClient::Packet(
            EnginePacket::decode(&text).map_or(Inbound::Malformed, Inbound::Packet),
        ),
        Some(Ok(AggregatedMessage::Binary(bytes))) => {
            FromClient::Packet(Inbound::Packet(EnginePacket::Binary(bytes)))
        }
        Some(Ok(AggregatedMessage::Ping(bytes))) => FromClient::Ping(bytes),
        Some(Ok(AggregatedMessage::Pong(_))) => FromClient::Nothing,
        Some(Ok(AggregatedMessage::Close(_)) | Err(_)) | None => FromClient::Gone,
    }
}

/// How long a close frame may take to go out.
const FAREWELL: std::time::Duration = std::time::Duration::from_secs(1);

/// The client's messages on a WebSocket, whole, each at most `maxPayload`.
pub(crate) fn messages(
    stream: actix_ws::MessageStream,
    realtime: &Realtime,
) -> actix_ws::AggregatedMessageStream {
    stream
        .max_frame_size(realtime.config.max_payload)
        .aggregate_continuations()
}

/// Closes a WebSocket, giving up after [`FAREWELL`]: a client that stopped
/// reading (the one the hub just dropped for falling behind) never takes
/// the close frame.
pub(crate) async fn close(ws: actix_ws::Session) {
    let _ = tokio::time::timeout(FAREWELL, ws.close(None)).await;
}

/// Carries a connection over its WebSocket until either side ends it: the
/// session's queue goes to the response body, which writes it (and closes
/// the WebSocket when the session ends); this task hands the client's
/// packets to the session and answers its WebSocket pings.
async fn carry(
    mut ws: actix_ws::Session,
    mut stream: actix_ws::AggregatedMessageStream,
    handle: PollHandle,
    hand_over: HandOver,
) {
    let Some((outbound, inbound)) = handle.take_over().await else {
        close(ws).await;
        return;
    };
    if hand_over.send(outbound).is_ok() {
        loop {
            match from_client(stream.next().await) {
                FromClient::Packet(packet) => {
                    if inbound.send(packet).await.is_err() {
                        break;
                    }
                }
                FromClient::Ping(bytes) => {
                    if ws.pong(&bytes).await.is_err() {
                        break;
                    }
                }
                FromClient::Nothing => {}
                FromClient::Gone => break,
            }
        }
    }
    let _ = inbound.try_send(Inbound::Packet(EnginePacket::Close));
    close(ws).await;
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
    // A pending GET returns a noop, so the client stops polling (with no
    // poll pending, nothing: the noop would reach the WebSocket instead).
    if handle.outbound.try_lock().is_err() {
        let _ = handle.out.try_send(EnginePacket::Noop.frame());
    }
    let Ok(Some(Ok(AggregatedMessage::Text(upgrade)))) =
        tokio::time::timeout(timeout, stream.next()).await
    else {
        return false;
    };
    EnginePacket::decode(&upgrade) == Ok(EnginePacket::Upgrade)
}
#[cfg(test)]
mod tests {
    /// The size of the future `f` returns.
    fn future_size<A, B, C, D, Fut, F: FnOnce(A, B, C, D) -> Fut>(_: F) -> usize {
        size_of::<Fut>()
    }

    #[test]
    fn an_idle_websocket_task_stays_small() {
        // Every open WebSocket holds one such future for as long as it is
        // open: 10 000 sockets pay this 10 000 times. Only the wait is
        // inline; with the writes, pongs, the handling of a packet and the
        // farewell inline as well it was 1 608 bytes, and 576 while it held
        // actix-ws's Session and drained the queue itself.
        let size = future_size(super::websocket);
        assert!(size <= 512, "the WebSocket task's future is {size} bytes");
    }
}
