//! The outbound side of a WebSocket opened on `/socket.io/`: its HTTP
//! response body drains the connection's frame queue itself and writes each
//! frame as a WebSocket message. A room event so goes from the hub to the
//! socket's writer (actix-http's dispatcher) in one wake-up, not through the
//! session's task and then actix-ws's channel: at 10 000 sockets that
//! halves the tasks woken for one event.
//!
//! The session's own frames (packets, pongs for the client's WebSocket
//! pings) go through the same queue, so actix-ws's `Session` is not kept.
//! actix-ws's body is kept, never polled: dropping it would end the stream
//! of the client's messages. The WebSocket closes when the queue ends: every
//! sender is gone (the session ended, the hub let go), and what was queued
//! before went out first.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_http::ws::{OpCode, Parser};
use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::web::{Bytes, BytesMut};

use crate::engine::Frame;
use crate::queue;

/// A WebSocket response body fed by a frame queue.
pub(crate) struct QueueBody {
    frames: queue::Receiver<Frame>,
    /// actix-ws's body, held for as long as the connection lasts: its drop
    /// tells actix-ws's message stream that the connection is gone.
    _client_stream_alive: BoxBody,
    /// Whether the close frame went out: the body is over.
    closed: bool,
}

impl QueueBody {
    /// A body writing `frames`; `actix_ws_body` is held until it ends.
    pub(crate) fn new(frames: queue::Receiver<Frame>, actix_ws_body: BoxBody) -> Self {
        Self {
            frames,
            _client_stream_alive: actix_ws_body,
            closed: false,
        }
    }
}

/// The most a control frame may carry (RFC 6455 5.5).
const MAX_CONTROL_PAYLOAD: usize = 125;

/// Appends `frame` as one unmasked, final WebSocket message.
fn encode(frame: &Frame, buf: &mut BytesMut) {
    match frame {
        Frame::Text(text) => Parser::write_message(buf, text.as_bytes(), OpCode::Text, true, false),
        Frame::Binary(bytes) => Parser::write_message(buf, bytes, OpCode::Binary, true, false),
        Frame::Pong(bytes) => {
            let payload = &bytes[..bytes.len().min(MAX_CONTROL_PAYLOAD)];
            Parser::write_message(buf, payload, OpCode::Pong, true, false);
        }
    }
}

impl MessageBody for QueueBody {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        BodySize::Stream
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.get_mut();
        if this.closed {
            return Poll::Ready(None);
        }
        // Everything waiting at once, as one chunk: the dispatcher writes it
        // in one go, and the queue has room again for the hub.
        let mut buf = BytesMut::new();
        loop {
            match this.frames.poll_recv(cx) {
                Poll::Ready(Some(frame)) => encode(&frame, &mut buf),
                Poll::Ready(None) => {
                    Parser::write_close(&mut buf, None, false);
                    this.closed = true;
                    break;
                }
                Poll::Pending if buf.is_empty() => return Poll::Pending,
                Poll::Pending => break,
            }
        }
        Poll::Ready(Some(Ok(buf.freeze())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytestring::ByteString;

    /// Polls `body` once with a waker that does nothing.
    fn poll(body: &mut QueueBody) -> Poll<Option<Bytes>> {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        Pin::new(body)
            .poll_next(&mut cx)
            .map(|chunk| chunk.map(|bytes| bytes.unwrap_or_default()))
    }

    fn text(text: &'static str) -> Frame {
        Frame::Text(ByteString::from_static(text))
    }

    #[test]
    fn queued_frames_go_out_together_and_the_end_of_the_queue_closes() {
        let (sender, receiver) = queue::channel(8);
        let mut body = QueueBody::new(receiver, BoxBody::new(()));
        assert_eq!(poll(&mut body), Poll::Pending, "nothing queued yet");
        sender.try_send(text("42[\"a\"]")).unwrap();
        sender
            .try_send(Frame::Binary(Bytes::from_static(&[1, 2])))
            .unwrap();
        sender
            .try_send(Frame::Pong(Bytes::from_static(b"hi")))
            .unwrap();
        let mut expected = vec![0x81, 7];
        expected.extend_from_slice(b"42[\"a\"]");
        expected.extend_from_slice(&[0x82, 2, 1, 2, 0x8a, 2, b'h', b'i']);
        assert_eq!(poll(&mut body), Poll::Ready(Some(Bytes::from(expected))));
        sender.try_send(text("1")).unwrap();
        drop(sender);
        assert_eq!(
            poll(&mut body),
            Poll::Ready(Some(Bytes::from_static(&[0x81, 1, b'1', 0x88, 0]))),
            "the last frame, then the close"
        );
        assert_eq!(
            poll(&mut body),
            Poll::Ready(None),
            "nothing after the close"
        );
    }

    #[test]
    fn a_long_message_carries_its_extended_length() {
        let (sender, receiver) = queue::channel(8);
        let mut body = QueueBody::new(receiver, BoxBody::new(()));
        let long = "x".repeat(300);
        sender
            .try_send(Frame::Text(ByteString::from(long.clone())))
            .unwrap();
        let Poll::Ready(Some(chunk)) = poll(&mut body) else {
            panic!("no chunk");
        };
        assert_eq!(&chunk[..4], &[0x81, 126, 1, 44]);
        assert_eq!(&chunk[4..], long.as_bytes());
    }
}
