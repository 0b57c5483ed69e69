//! The outbound side of a WebSocket on `/socket.io/`: its HTTP response
//! body drains the connection's frame queue itself and writes each frame as
//! a WebSocket message. A room event so goes from the hub to the socket's
//! writer (actix-http's dispatcher) in one wake-up, not through a task of
//! the connection and then actix-ws's channel: at 10 000 sockets that
//! halves the tasks woken for one event.
//!
//! A WebSocket opened as such sends everything through the queue (its
//! pongs too), so actix-ws's `Session` is not kept; actix-ws's body is kept,
//! never polled: dropping it would end the stream of the client's messages.
//! The WebSocket closes when the queue ends: every sender is gone (the
//! session ended, the hub let go), and what was queued before went out
//! first. A WebSocket taking over a long-polling session gets the queue only
//! after the upgrade's probe, which it answers through actix-ws's `Session`
//! like its pongs and its close: then actix-ws's body is written first on
//! every turn (the probe's answer before the session's first frame), and
//! its end ends the body.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_http::ws::{OpCode, Parser};
use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::web::{Bytes, BytesMut};

use tokio::sync::oneshot;

use crate::engine::Frame;
use crate::queue;

/// A WebSocket response body fed by a frame queue.
pub(crate) struct QueueBody {
    frames: Frames,
    /// actix-ws's body, held for as long as the connection lasts: its drop
    /// tells actix-ws's message stream that the connection is gone.
    actix_ws_body: BoxBody,
    /// Whether actix-ws's body carries frames too (the upgrade's probe
    /// answer, pongs, the close): it is then polled, and its end is ours.
    through_actix_ws: bool,
    /// Whether the close frame went out: the body is over.
    closed: bool,
}

/// Where the frames come from.
enum Frames {
    /// The connection's queue.
    Queue(queue::Receiver<Frame>),
    /// The queue, once the upgrade's probe is done.
    AfterProbe(oneshot::Receiver<queue::Receiver<Frame>>),
    /// The upgrade failed: actix-ws's body closes the WebSocket.
    None,
}

impl QueueBody {
    /// The body of a WebSocket opened as such: it writes `frames`;
    /// `actix_ws_body` is held until it ends.
    pub(crate) fn new(frames: queue::Receiver<Frame>, actix_ws_body: BoxBody) -> Self {
        Self {
            frames: Frames::Queue(frames),
            actix_ws_body,
            through_actix_ws: false,
            closed: false,
        }
    }

    /// The body of a WebSocket taking over a long-polling session: what
    /// actix-ws's `Session` sends, and the session's queue once it is
    /// handed over.
    pub(crate) fn after_upgrade(
        frames: oneshot::Receiver<queue::Receiver<Frame>>,
        actix_ws_body: BoxBody,
    ) -> Self {
        Self {
            frames: Frames::AfterProbe(frames),
            actix_ws_body,
            through_actix_ws: true,
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
        let mut buf = BytesMut::new();
        while this.through_actix_ws {
            match Pin::new(&mut this.actix_ws_body).poll_next(cx) {
                Poll::Ready(Some(Ok(bytes))) => buf.extend_from_slice(&bytes),
                Poll::Ready(Some(Err(error))) => return Poll::Ready(Some(Err(error))),
                Poll::Ready(None) => {
                    // The Session closed the WebSocket (its close frame is
                    // in `buf`, or went out before).
                    this.closed = true;
                    return Poll::Ready((!buf.is_empty()).then(|| Ok(buf.freeze())));
                }
                Poll::Pending => break,
            }
        }
        if let Frames::AfterProbe(handed_over) = &mut this.frames {
            match Pin::new(handed_over).poll(cx) {
                Poll::Ready(Ok(queue)) => this.frames = Frames::Queue(queue),
                Poll::Ready(Err(_)) => this.frames = Frames::None,
                Poll::Pending => {}
            }
        }
        if let Frames::Queue(queue) = &mut this.frames {
            // Everything waiting at once, as one chunk: the dispatcher
            // writes it in one go, and the queue has room again for the hub.
            loop {
                match queue.poll_recv(cx) {
                    Poll::Ready(Some(frame)) => encode(&frame, &mut buf),
                    Poll::Ready(None) => {
                        Parser::write_close(&mut buf, None, false);
                        this.closed = true;
                        break;
                    }
                    Poll::Pending => break,
                }
            }
        }
        if buf.is_empty() {
            Poll::Pending
        } else {
            Poll::Ready(Some(Ok(buf.freeze())))
        }
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

    /// What a [`Scripted`] body gives next.
    #[derive(Default)]
    struct Script {
        chunks: Vec<&'static [u8]>,
        ended: bool,
    }

    /// actix-ws's body as a test scripts it: its chunks in turn, then
    /// nothing yet, or its end once the test ends it.
    #[derive(Clone, Default)]
    struct Scripted(std::rc::Rc<std::cell::RefCell<Script>>);

    impl Scripted {
        fn push(&self, chunk: &'static [u8]) {
            self.0.borrow_mut().chunks.push(chunk);
        }

        fn end(&self) {
            self.0.borrow_mut().ended = true;
        }
    }

    impl MessageBody for Scripted {
        type Error = std::convert::Infallible;

        fn size(&self) -> BodySize {
            BodySize::Stream
        }

        fn poll_next(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Bytes, Self::Error>>> {
            let mut script = self.0.borrow_mut();
            if script.chunks.is_empty() {
                return if script.ended {
                    Poll::Ready(None)
                } else {
                    Poll::Pending
                };
            }
            Poll::Ready(Some(Ok(Bytes::from_static(script.chunks.remove(0)))))
        }
    }

    #[test]
    fn after_an_upgrade_the_probe_answer_comes_first_and_the_sessions_close_ends_it() {
        let actix_ws = Scripted::default();
        let (hand_over, handed_over) = oneshot::channel();
        let mut body = QueueBody::after_upgrade(handed_over, BoxBody::new(actix_ws.clone()));
        let (sender, queue) = queue::channel(8);
        sender.try_send(text("42[\"a\"]")).unwrap();
        actix_ws.push(b"probe");
        assert_eq!(
            poll(&mut body),
            Poll::Ready(Some(Bytes::from_static(b"probe"))),
            "the queue is not the body's before the probe"
        );
        assert!(hand_over.send(queue).is_ok());
        actix_ws.push(b"pong");
        let mut expected = b"pong".to_vec();
        expected.extend_from_slice(&[0x81, 7]);
        expected.extend_from_slice(b"42[\"a\"]");
        assert_eq!(poll(&mut body), Poll::Ready(Some(Bytes::from(expected))));
        sender.try_send(text("42[\"b\"]")).unwrap();
        actix_ws.push(b"close");
        actix_ws.end();
        assert_eq!(
            poll(&mut body),
            Poll::Ready(Some(Bytes::from_static(b"close"))),
            "nothing of the queue after the close"
        );
        assert_eq!(poll(&mut body), Poll::Ready(None));
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
