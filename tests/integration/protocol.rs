//! Protocol conformance of the realtime crate, against its conformance
//! server (`weelo_realtime::conformance`, the configuration the official
//! Engine.IO and Socket.IO suites are written for): raw HTTP and WebSocket
//! requests for every rule of the handshake, payloads, heartbeat, close,
//! upgrade, namespaces, acks and binary packets, and the reference
//! `socket.io-client` for binary and acks over both transports. Waits are
//! for what the server sends (a ping, a close); the only pauses put two
//! concurrent requests in order.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "helpers of tests fail loudly on purpose"
)]

use std::time::Duration;

use actix_web::{App, HttpServer};
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use weelo_realtime::conformance::{self, Conformance};

/// How long any single thing may take to arrive.
const WAIT: Duration = Duration::from_secs(5);

struct Server {
    http: String,
    ws: String,
    client: reqwest::Client,
    hub: weelo_realtime::Hub,
}

async fn server() -> Server {
    server_with(conformance::config()).await
}

async fn server_with(config: weelo_realtime::EngineConfig) -> Server {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let conformance = Conformance::new(config);
    let hub = conformance.hub().clone();
    let server = HttpServer::new(move || {
        let conformance = conformance.clone();
        App::new().configure(move |cfg| conformance.configure(cfg))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    Server {
        http: format!("http://127.0.0.1:{port}"),
        ws: format!("ws://127.0.0.1:{port}"),
        client: reqwest::Client::new(),
        hub,
    }
}

impl Server {
    async fn get(&self, path_and_query: &str) -> (StatusCode, String) {
        let response = self
            .client
            .get(format!("{}{path_and_query}", self.http))
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    async fn post(&self, path_and_query: &str, body: &str) -> (StatusCode, String) {
        let response = self
            .client
            .post(format!("{}{path_and_query}", self.http))
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    /// Opens a polling session on `endpoint` (`engine.io` or `socket.io`);
    /// returns its sid.
    async fn open_polling(&self, endpoint: &str) -> String {
        let (status, body) = self
            .get(&format!("/{endpoint}/?EIO=4&transport=polling"))
            .await;
        assert_eq!(status, StatusCode::OK);
        let open: Value = serde_json::from_str(body.strip_prefix('0').unwrap()).unwrap();
        open["sid"].as_str().unwrap().to_owned()
    }

    async fn websocket(&self, path_and_query: &str) -> Ws {
        let (stream, _) = tokio_tungstenite::connect_async(format!("{}{path_and_query}", self.ws))
            .await
            .unwrap();
        Ws { stream }
    }
}

fn polling(endpoint: &str, sid: &str) -> String {
    format!("/{endpoint}/?EIO=4&transport=polling&sid={sid}")
}

struct Ws {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Ws {
    async fn send(&mut self, text: &str) {
        self.stream
            .send(Message::text(text.to_owned()))
            .await
            .unwrap();
    }

    async fn send_binary(&mut self, bytes: &[u8]) {
        self.stream
            .send(Message::binary(bytes.to_vec()))
            .await
            .unwrap();
    }

    /// The next text or binary frame; `None` once the server closed.
    async fn next(&mut self) -> Option<Message> {
        loop {
            let frame = tokio::time::timeout(WAIT, self.stream.next())
                .await
                .expect("nothing arrived in time");
            match frame {
                Some(Ok(message @ (Message::Text(_) | Message::Binary(_)))) => {
                    return Some(message);
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return None,
                Some(Ok(_)) => {}
            }
        }
    }

    async fn text(&mut self) -> String {
        match self.next().await {
            Some(Message::Text(text)) => text.to_string(),
            other => panic!("expected a text frame, got {other:?}"),
        }
    }

    /// The next text frame that is not a ping.
    async fn text_after_pings(&mut self) -> String {
        loop {
            let text = self.text().await;
            if text != "2" {
                return text;
            }
        }
    }

    async fn binary(&mut self) -> Vec<u8> {
        match self.next().await {
            Some(Message::Binary(bytes)) => bytes.to_vec(),
            other => panic!("expected a binary frame, got {other:?}"),
        }
    }

    /// Waits for the server to close, ignoring what comes before.
    async fn closed(&mut self) {
        while self.next().await.is_some() {}
    }
}

fn open_packet(text: &str) -> Value {
    serde_json::from_str(text.strip_prefix('0').unwrap()).unwrap()
}

#[tokio::test]
async fn handshakes_send_the_open_packet_and_bad_requests_are_400() {
    let server = server().await;
    for endpoint in ["engine.io", "socket.io"] {
        let (status, body) = server
            .get(&format!("/{endpoint}/?EIO=4&transport=polling"))
            .await;
        assert_eq!(status, StatusCode::OK);
        let open = open_packet(&body);
        let mut keys: Vec<&str> = open
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "maxPayload",
                "pingInterval",
                "pingTimeout",
                "sid",
                "upgrades"
            ]
        );
        assert_eq!(
            (
                &open["upgrades"],
                &open["pingInterval"],
                &open["pingTimeout"],
                &open["maxPayload"]
            ),
            (
                &json!(["websocket"]),
                &json!(300),
                &json!(200),
                &json!(1_000_000)
            )
        );
        let mut ws = server
            .websocket(&format!("/{endpoint}/?EIO=4&transport=websocket"))
            .await;
        assert_eq!(open_packet(&ws.text().await)["upgrades"], json!([]));

        for query in [
            "transport=polling",
            "EIO=abc&transport=polling",
            "EIO=4",
            "EIO=4&transport=abc",
        ] {
            let (status, _) = server.get(&format!("/{endpoint}/?{query}")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{endpoint} {query}");
        }
        let url = format!("{}/{endpoint}/?EIO=4&transport=polling", server.http);
        for method in [reqwest::Method::POST, reqwest::Method::PUT] {
            let status = server
                .client
                .request(method.clone(), &url)
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(status, StatusCode::BAD_REQUEST, "{endpoint} {method}");
        }
        for query in [
            "transport=websocket",
            "EIO=abc&transport=websocket",
            "EIO=4&transport=abc",
        ] {
            let refused =
                tokio_tungstenite::connect_async(format!("{}/{endpoint}/?{query}", server.ws))
                    .await;
            assert!(refused.is_err(), "{endpoint} {query} opened a WebSocket");
        }
    }
}

#[tokio::test]
async fn polling_payloads_carry_text_and_base64_binary_packets_both_ways() {
    let server = server().await;
    for payload in [
        "4hello",
        "4test1\u{1e}4test2\u{1e}4test3",
        "4hello\u{1e}bAQIDBA==",
    ] {
        let sid = server.open_polling("engine.io").await;
        let url = polling("engine.io", &sid);
        assert_eq!(
            server.post(&url, payload).await,
            (StatusCode::OK, "ok".to_owned())
        );
        assert_eq!(server.get(&url).await, (StatusCode::OK, payload.to_owned()));
    }
}

#[tokio::test]
async fn a_malformed_payload_or_an_overlapping_poll_closes_the_polling_session() {
    let server = server().await;
    let sid = server.open_polling("engine.io").await;
    let url = polling("engine.io", &sid);
    assert_eq!(server.post(&url, "abc").await.0, StatusCode::BAD_REQUEST);
    assert_eq!(
        server.get(&url).await.0,
        StatusCode::BAD_REQUEST,
        "the session is gone"
    );

    let sid = server.open_polling("engine.io").await;
    let url = polling("engine.io", &sid);
    let first = server.get(&url);
    let second = async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        server.get(&format!("{url}&t=burst")).await
    };
    let (first, second) = tokio::join!(first, second);
    assert_eq!(
        first,
        (StatusCode::OK, "1".to_owned()),
        "the pending poll is told of the close"
    );
    assert_eq!(second.0, StatusCode::BAD_REQUEST);
    assert_eq!(server.get(&url).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_websocket_echoes_text_and_binary_and_closes_on_a_malformed_packet() {
    let server = server().await;
    let mut ws = server
        .websocket("/engine.io/?EIO=4&transport=websocket")
        .await;
    ws.text().await;
    ws.send("4hello").await;
    assert_eq!(ws.text().await, "4hello");
    ws.send_binary(&[1, 2, 3, 4]).await;
    assert_eq!(ws.binary().await, [1, 2, 3, 4]);
    ws.send("abc").await;
    ws.closed().await;
}

#[tokio::test]
async fn a_websocket_ping_is_answered_with_its_pong_in_order_and_a_close_ends_with_a_close_frame() {
    let server = server().await;
    let mut ws = server
        .websocket("/engine.io/?EIO=4&transport=websocket")
        .await;
    ws.text().await;
    ws.send("4before").await;
    ws.stream
        .send(Message::Ping(b"are you there".to_vec().into()))
        .await
        .unwrap();
    ws.send("4after").await;
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let frame = tokio::time::timeout(WAIT, ws.stream.next())
            .await
            .expect("nothing arrived in time");
        match frame {
            Some(Ok(Message::Text(text))) => seen.push(text.to_string()),
            Some(Ok(Message::Pong(bytes))) => {
                seen.push(format!("pong {}", String::from_utf8_lossy(&bytes)));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen, ["4before", "pong are you there", "4after"]);
    // A client's close packet: the server closes the WebSocket with a close frame.
    ws.send("1").await;
    let last = tokio::time::timeout(WAIT, ws.stream.next())
        .await
        .expect("no close in time");
    assert!(matches!(last, Some(Ok(Message::Close(_)))), "{last:?}");
}

#[tokio::test]
async fn the_server_pings_and_ends_a_session_whose_pongs_stop() {
    let server = server().await;
    let sid = server.open_polling("engine.io").await;
    let url = polling("engine.io", &sid);
    for _ in 0..3 {
        assert_eq!(server.get(&url).await, (StatusCode::OK, "2".to_owned()));
        assert_eq!(server.post(&url, "3").await.0, StatusCode::OK);
    }
    assert_eq!(server.get(&url).await, (StatusCode::OK, "2".to_owned()));
    // No pong: the next poll is answered by the close, or finds it gone.
    let (status, body) = server.get(&url).await;
    assert!(
        status == StatusCode::BAD_REQUEST || body == "1",
        "{status} {body}"
    );
    assert_eq!(server.get(&url).await.0, StatusCode::BAD_REQUEST);

    let mut ws = server
        .websocket("/engine.io/?EIO=4&transport=websocket")
        .await;
    ws.text().await;
    for _ in 0..3 {
        assert_eq!(ws.text().await, "2");
        ws.send("3").await;
    }
    ws.closed().await;
}

#[tokio::test]
async fn a_client_close_ends_the_session_on_either_transport() {
    let server = server().await;
    let sid = server.open_polling("engine.io").await;
    let url = polling("engine.io", &sid);
    let pending = server.get(&url);
    let close = async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        server.post(&url, "1").await
    };
    let (pending, close) = tokio::join!(pending, close);
    assert_eq!(close.0, StatusCode::OK);
    assert_eq!(
        pending,
        (StatusCode::OK, "6".to_owned()),
        "the pending poll gets a noop"
    );
    assert_eq!(server.get(&url).await.0, StatusCode::BAD_REQUEST);

    let mut ws = server
        .websocket("/engine.io/?EIO=4&transport=websocket")
        .await;
    ws.text().await;
    ws.send("1").await;
    ws.closed().await;
}

#[tokio::test]
async fn an_upgrade_probes_then_moves_the_session_to_the_websocket_for_good() {
    let server = server().await;
    let sid = server.open_polling("engine.io").await;
    let url = polling("engine.io", &sid);
    let mut ws = server
        .websocket(&format!("/engine.io/?EIO=4&transport=websocket&sid={sid}"))
        .await;
    ws.send("2probe").await;
    assert_eq!(ws.text().await, "3probe");
    assert_eq!(
        server.get(&url).await,
        (StatusCode::OK, "6".to_owned()),
        "a poll during the upgrade is ended with a noop"
    );
    ws.send("5").await;
    ws.send("4hello").await;
    assert_eq!(ws.text_after_pings().await, "4hello");
    assert_eq!(
        server.get(&url).await.0,
        StatusCode::BAD_REQUEST,
        "no polling after the upgrade"
    );
    assert_eq!(server.post(&url, "4x").await.0, StatusCode::BAD_REQUEST);
    let mut second = server
        .websocket(&format!("/engine.io/?EIO=4&transport=websocket&sid={sid}"))
        .await;
    second.closed().await;
    ws.send("4still here").await;
    assert_eq!(ws.text_after_pings().await, "4still here");
}

/// A Socket.IO connection on a WebSocket, connected to `/`.
async fn socket_io(server: &Server, connect: &str) -> Ws {
    let mut ws = server
        .websocket("/socket.io/?EIO=4&transport=websocket")
        .await;
    ws.text().await;
    ws.send(connect).await;
    ws
}

#[tokio::test]
async fn socket_io_connects_main_and_custom_namespaces_with_their_payload() {
    let server = server().await;
    for (connect, prefix, auth) in [
        ("40", "40", "42[\"auth\",{}]"),
        (
            "40{\"token\":\"123\"}",
            "40",
            "42[\"auth\",{\"token\":\"123\"}]",
        ),
        ("40/custom,", "40/custom,", "42/custom,[\"auth\",{}]"),
        (
            "40/custom,{\"token\":\"abc\"}",
            "40/custom,",
            "42/custom,[\"auth\",{\"token\":\"abc\"}]",
        ),
    ] {
        let mut ws = socket_io(&server, connect).await;
        let answer = ws.text().await;
        let handshake: Value = serde_json::from_str(answer.strip_prefix(prefix).unwrap()).unwrap();
        assert!(handshake["sid"].is_string(), "{answer}");
        assert_eq!(handshake.as_object().unwrap().len(), 1);
        assert_eq!(ws.text().await, auth);
    }
    let mut ws = socket_io(&server, "40/random").await;
    assert_eq!(
        ws.text().await,
        "44/random,{\"message\":\"Invalid namespace\"}"
    );
}

#[tokio::test]
async fn socket_io_closes_on_a_bad_handshake_and_when_no_handshake_comes() {
    let server = server().await;
    let mut ws = socket_io(&server, "4abc").await;
    ws.closed().await;
    let mut silent = server
        .websocket("/socket.io/?EIO=4&transport=websocket")
        .await;
    silent.text().await;
    // Pongs keep the Engine.IO session alive; only the connect timeout ends it.
    loop {
        match silent.next().await {
            Some(Message::Text(text)) if text.as_str() == "2" => silent.send("3").await,
            // The server's close, then the WebSocket's.
            Some(Message::Text(text)) if text.as_str() == "1" => {}
            Some(other) => panic!("unexpected {other:?}"),
            None => break,
        }
    }
}

#[tokio::test]
async fn socket_io_disconnect_leaves_one_namespace_and_keeps_the_connection() {
    let server = server().await;
    let mut ws = socket_io(&server, "40").await;
    ws.text().await;
    ws.text().await;
    ws.send("41").await;
    assert_eq!(ws.text().await, "2", "only pings after leaving /");
    ws.send("3").await;

    let mut ws = socket_io(&server, "40").await;
    ws.text().await;
    ws.text().await;
    ws.send("40/custom").await;
    assert!(ws.text_after_pings().await.starts_with("40/custom,"));
    assert_eq!(ws.text_after_pings().await, "42/custom,[\"auth\",{}]");
    ws.send("41/custom").await;
    ws.send("42/custom,[\"message-with-ack\",1]").await;
    ws.send("42[\"message\",\"message to main namespace\"]")
        .await;
    assert_eq!(
        ws.text_after_pings().await,
        "42[\"message-back\",\"message to main namespace\"]",
        "the event on the left namespace was ignored"
    );
}

#[tokio::test]
async fn socket_io_events_acks_and_binary_attachments_come_back() {
    let server = server().await;
    let mut ws = socket_io(&server, "40").await;
    ws.text().await;
    ws.text().await;
    ws.send("42[\"message\",1,\"2\",{\"3\":[true]}]").await;
    assert_eq!(
        ws.text_after_pings().await,
        "42[\"message-back\",1,\"2\",{\"3\":[true]}]"
    );
    ws.send("42456[\"message-with-ack\",1,\"2\",{\"3\":[false]}]")
        .await;
    assert_eq!(
        ws.text_after_pings().await,
        "43456[1,\"2\",{\"3\":[false]}]"
    );

    let placeholders = r#"{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}"#;
    ws.send(&format!("452-[\"message\",{placeholders}]")).await;
    ws.send_binary(&[1, 2, 3]).await;
    ws.send_binary(&[4, 5, 6]).await;
    assert_eq!(
        ws.text_after_pings().await,
        format!("452-[\"message-back\",{placeholders}]")
    );
    assert_eq!(ws.binary().await, [1, 2, 3]);
    assert_eq!(ws.binary().await, [4, 5, 6]);

    ws.send(&format!("452-789[\"message-with-ack\",{placeholders}]"))
        .await;
    ws.send_binary(&[1, 2, 3]).await;
    ws.send_binary(&[4, 5, 6]).await;
    assert_eq!(
        ws.text_after_pings().await,
        format!("462-789[{placeholders}]")
    );
    assert_eq!(ws.binary().await, [1, 2, 3]);
    assert_eq!(ws.binary().await, [4, 5, 6]);
}

#[tokio::test]
async fn socket_io_malformed_packets_close_the_connection() {
    let server = server().await;
    for bad in [
        "4abc",
        "42{}",
        "42abc[\"message-with-ack\",1]",
        "451-[\"message\"]\u{0}",
    ] {
        let mut ws = socket_io(&server, "40").await;
        ws.text().await;
        ws.text().await;
        if let Some(header) = bad.strip_suffix('\u{0}') {
            // A binary packet followed by text instead of its attachment.
            ws.send(header).await;
            ws.send("42[\"message\",1]").await;
        } else {
            ws.send(bad).await;
        }
        ws.closed().await;
    }
}

#[tokio::test]
async fn the_reference_client_sends_binary_and_acks_on_namespaces_over_both_transports() {
    let server = server().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/node/protocol.mjs");
    for mode in ["websocket", "polling"] {
        let output = tokio::process::Command::new("node")
            .arg(script)
            .arg(&server.http)
            .arg(mode)
            .output()
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{mode}: {stdout} {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let seen: Value = serde_json::from_str(stdout.trim()).unwrap();
        assert_eq!(seen["transport"], mode);
        assert_eq!(seen["auth"], json!({ "token": "123" }));
        assert_eq!(seen["customAuth"], json!({ "token": "abc" }));
        assert_eq!(seen["refused"], "Invalid namespace");
        assert_eq!(
            seen["messageBack"],
            json!([1, "2", { "bytes": [1, 2, 3] }, { "nested": { "bytes": [4, 5] } }])
        );
        assert_eq!(seen["ack"], json!(["x", { "bytes": [9, 8] }]));
        assert_eq!(seen["customAck"], json!([{ "n": 7 }]));
    }
}

/// Connects to `/` and returns the socket and its sid.
async fn connected(server: &Server) -> (Ws, String) {
    let mut ws = socket_io(server, "40").await;
    let answer = ws.text().await;
    let handshake: Value = serde_json::from_str(answer.strip_prefix("40").unwrap()).unwrap();
    ws.text().await;
    (ws, handshake["sid"].as_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_that_stops_reading_is_dropped_while_the_others_keep_receiving() {
    // Pings far apart: only falling behind can end the stalled socket here.
    let server = server_with(weelo_realtime::EngineConfig {
        ping_interval: Duration::from_secs(60),
        ping_timeout: Duration::from_secs(60),
        ..conformance::config()
    })
    .await;
    let (mut reader, reader_sid) = connected(&server).await;
    // Connected, then never read again: the kernel's buffers fill, then the
    // WebSocket's, then its queue in the hub.
    let (mut stalled, stalled_sid) = connected(&server).await;
    assert_eq!(server.hub.sockets().await, 2);
    let padding = "x".repeat(64 * 1024);
    let events = 600_u64;
    for n in 1..=events {
        server.hub.deliver(weelo_realtime::Delivery {
            rooms: vec![
                format!("socket:{reader_sid}"),
                format!("socket:{stalled_sid}"),
            ],
            name: "bulk".to_owned(),
            data: json!({ "n": n, "padding": padding }),
            event_id: n.to_string(),
            server_time_ms: 0,
        });
    }
    let mut last = 0;
    while last < events {
        let text = ws_text_skipping_pongs(&mut reader).await;
        let packet: Value = serde_json::from_str(text.strip_prefix("42").unwrap()).unwrap();
        let n = packet[1]["n"].as_u64().unwrap();
        assert_eq!(n, last + 1, "in order, none lost");
        last = n;
    }
    assert_eq!(
        server.hub.sockets().await,
        1,
        "the stalled socket was dropped"
    );
    // The server let go of its connection too: reading again, the stalled
    // client gets what was already on its way, then the end.
    stalled.closed().await;
}

/// The next text frame, answering the server's pings on the way.
async fn ws_text_skipping_pongs(ws: &mut Ws) -> String {
    loop {
        let text = ws.text().await;
        if text == "2" {
            ws.send("3").await;
        } else {
            return text;
        }
    }
}
