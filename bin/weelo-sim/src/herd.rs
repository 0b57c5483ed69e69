//! The client side of `bench-sockets`: thousands of Socket.IO sockets over
//! the Engine.IO WebSocket transport, as the captain app connects, held by
//! one thread over mio with the WebSocket framing done by hand.
//!
//! The load tool shares the machine's two cores with the server it measures,
//! so what it spends per socket is taken from the server. Two choices keep
//! that small: one thread and no task per socket (one read and a few byte
//! comparisons per frame), and no sleeping in `epoll_wait`: the thread looks
//! at its sockets every millisecond and sleeps in between, so a server write
//! never has to wake it (on loopback the writer pays for that wake-up; a
//! client on another machine would not cost the server anything). An arrival
//! is timed when it is read, at most a millisecond after it came: the
//! figures err on the slow side.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

/// How long the thread sleeps when none of its sockets has anything.
const IDLE: Duration = Duration::from_millis(1);

/// Sockets whose WebSocket and Socket.IO handshakes may be under way at once.
const OPENING_AT_ONCE: usize = 256;

/// A herd of sockets on its own thread.
pub struct Herd {
    thread: JoinHandle<anyhow::Result<Heard>>,
    connected: Arc<AtomicUsize>,
    heard: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

/// What the sockets heard of the timed event.
pub struct Heard {
    /// When each socket read it, in no order.
    pub arrivals: Vec<Instant>,
    /// Its text as the first socket read it (`42["name",{…}]`).
    pub text: Option<String>,
}

/// What the herd's thread shares with its owner.
struct Shared {
    connected: Arc<AtomicUsize>,
    heard: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Herd {
    /// Opens `sockets` sockets to `addr` (`/socket.io/`, WebSocket), each
    /// connecting to the main namespace with `token`. `event` is the event
    /// whose arrivals are timed.
    pub fn start(addr: SocketAddr, token: &str, sockets: usize, event: &str) -> Self {
        let connected = Arc::new(AtomicUsize::new(0));
        let heard = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let shared = Shared {
            connected: connected.clone(),
            heard: heard.clone(),
            stop: stop.clone(),
        };
        let hello = format!("40{}", serde_json::json!({ "token": token }));
        let marker = format!("42[\"{event}\"");
        let thread =
            std::thread::spawn(move || run(addr, sockets, &hello, marker.as_bytes(), &shared));
        Self {
            thread,
            connected,
            heard,
            stop,
        }
    }

    /// Sockets connected to the namespace so far.
    pub fn connected(&self) -> usize {
        self.connected.load(Ordering::Acquire)
    }

    /// Sockets that heard the event so far.
    pub fn heard(&self) -> usize {
        self.heard.load(Ordering::Acquire)
    }

    /// Whether the thread has ended before [`Herd::finish`]: a socket
    /// failed, and `finish` says why.
    pub fn ended(&self) -> bool {
        self.thread.is_finished()
    }

    /// Closes every socket; what they heard of the event.
    pub fn finish(self) -> anyhow::Result<Heard> {
        self.stop.store(true, Ordering::Release);
        self.thread
            .join()
            .map_err(|_| anyhow::anyhow!("the socket thread panicked"))?
    }
}

/// Where one socket is in its handshakes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// TCP connecting.
    Connecting,
    /// The HTTP upgrade was sent; waiting for the 101.
    Upgrading,
    /// A WebSocket: waiting for the open packet, then the CONNECT answer.
    Opening,
    /// Connected to the namespace.
    Connected,
}

/// One socket.
struct Client {
    stream: TcpStream,
    phase: Phase,
    /// Bytes read and not yet a whole frame (or a whole HTTP answer).
    input: Vec<u8>,
    /// Bytes the socket did not take yet.
    output: Vec<u8>,
    heard: bool,
}

fn run(
    addr: SocketAddr,
    sockets: usize,
    hello: &str,
    marker: &[u8],
    shared: &Shared,
) -> anyhow::Result<Heard> {
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(1024);
    let mut clients: HashMap<Token, Client> = HashMap::with_capacity(sockets);
    let mut heard = Heard {
        arrivals: Vec::with_capacity(sockets),
        text: None,
    };
    let mut opened = 0;
    let mut buf = vec![0_u8; 16 * 1024];
    let request = format!(
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {addr}\r\n\
         Upgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    while !shared.stop.load(Ordering::Acquire) {
        let opening = opened - shared.connected.load(Ordering::Relaxed);
        for _ in opening..OPENING_AT_ONCE {
            if opened == sockets {
                break;
            }
            let token = Token(opened);
            let mut stream = TcpStream::connect(addr)?;
            poll.registry().register(
                &mut stream,
                token,
                Interest::READABLE | Interest::WRITABLE,
            )?;
            clients.insert(
                token,
                Client {
                    stream,
                    phase: Phase::Connecting,
                    input: Vec::new(),
                    output: Vec::new(),
                    heard: false,
                },
            );
            opened += 1;
        }
        poll.poll(&mut events, Some(Duration::ZERO))?;
        if events.is_empty() {
            std::thread::sleep(IDLE);
            continue;
        }
        for event in &events {
            let Some(client) = clients.get_mut(&event.token()) else {
                continue;
            };
            let step = client.on_ready(&request, hello, marker, &mut buf, shared);
            match step {
                Ok(Some((at, text))) => {
                    heard.arrivals.push(at);
                    heard.text = heard.text.take().or(text);
                }
                Ok(None) => {}
                Err(error) => bail!("socket {}: {error:#}", event.token().0),
            }
        }
    }
    Ok(heard)
}

impl Client {
    /// Handles a readiness event: finishes the TCP connect, flushes, reads
    /// and answers. When the timed event was read, its arrival (and its
    /// text, for the first socket that read it).
    fn on_ready(
        &mut self,
        request: &str,
        hello: &str,
        marker: &[u8],
        buf: &mut [u8],
        shared: &Shared,
    ) -> anyhow::Result<Option<(Instant, Option<String>)>> {
        if self.phase == Phase::Connecting {
            if let Some(error) = self.stream.take_error()? {
                return Err(error).context("connect");
            }
            match self.stream.peer_addr() {
                Ok(_) => {}
                Err(error) if error.kind() == ErrorKind::NotConnected => return Ok(None),
                Err(error) => return Err(error).context("connect"),
            }
            self.stream.set_nodelay(true)?;
            self.phase = Phase::Upgrading;
            self.output.extend_from_slice(request.as_bytes());
        }
        self.flush()?;
        let mut arrival = None;
        loop {
            let read = match self.stream.read(buf) {
                Ok(0) => bail!("the server closed the socket"),
                Ok(read) => read,
                Err(error) if error.kind() == ErrorKind::WouldBlock => break,
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                Err(error) => return Err(error).context("read"),
            };
            let at = Instant::now();
            let chunk = buf.get(..read).unwrap_or_default();
            if self.input.is_empty() && self.phase == Phase::Connected {
                // The usual case: whole frames in one read, nothing kept.
                let used = self.frames(chunk, hello, marker, shared, at, &mut arrival)?;
                self.input
                    .extend_from_slice(chunk.get(used..).unwrap_or_default());
            } else {
                self.input.extend_from_slice(chunk);
                let input = std::mem::take(&mut self.input);
                let mut used = 0;
                if self.phase == Phase::Upgrading {
                    used = self.upgraded(&input)?;
                }
                if self.phase != Phase::Upgrading {
                    let rest = input.get(used..).unwrap_or_default();
                    used += self.frames(rest, hello, marker, shared, at, &mut arrival)?;
                }
                self.input = input;
                self.input.drain(..used);
            }
        }
        self.flush()?;
        Ok(arrival)
    }

    /// The length of the HTTP answer once it is whole (checking it is the
    /// 101), 0 while it is not.
    fn upgraded(&mut self, input: &[u8]) -> anyhow::Result<usize> {
        let Some(end) = input.windows(4).position(|window| window == b"\r\n\r\n") else {
            return Ok(0);
        };
        if !input.starts_with(b"HTTP/1.1 101") {
            let head = String::from_utf8_lossy(input.get(..end).unwrap_or_default());
            bail!("no upgrade: {head}");
        }
        self.phase = Phase::Opening;
        Ok(end + 4)
    }

    /// Handles the whole frames at the start of `input`; how many bytes
    /// they took.
    fn frames(
        &mut self,
        input: &[u8],
        hello: &str,
        marker: &[u8],
        shared: &Shared,
        at: Instant,
        arrival: &mut Option<(Instant, Option<String>)>,
    ) -> anyhow::Result<usize> {
        let mut used = 0;
        while let Some((opcode, payload, length)) =
            server_frame(input.get(used..).unwrap_or_default())?
        {
            used += length;
            match opcode {
                TEXT => self.on_text(payload, hello, marker, shared, at, arrival),
                PING => client_frame(PONG, payload, &mut self.output),
                CLOSE => bail!("the server closed the WebSocket"),
                _ => {}
            }
        }
        Ok(used)
    }

    /// An Engine.IO packet from the server.
    fn on_text(
        &mut self,
        text: &[u8],
        hello: &str,
        marker: &[u8],
        shared: &Shared,
        at: Instant,
        arrival: &mut Option<(Instant, Option<String>)>,
    ) {
        if text == b"2" {
            client_frame(TEXT, b"3", &mut self.output);
        } else if self.phase == Phase::Opening && text.starts_with(b"0") {
            client_frame(TEXT, hello.as_bytes(), &mut self.output);
        } else if self.phase == Phase::Opening && text.starts_with(b"40") {
            self.phase = Phase::Connected;
            shared.connected.fetch_add(1, Ordering::AcqRel);
        } else if !self.heard && text.starts_with(marker) {
            self.heard = true;
            // The text of the first one only: the others cost no copy.
            let first = shared.heard.fetch_add(1, Ordering::AcqRel) == 0;
            let text = first.then(|| String::from_utf8_lossy(text).into_owned());
            *arrival = Some((at, text));
        }
    }

    /// Writes what is waiting, as far as the socket takes it.
    fn flush(&mut self) -> anyhow::Result<()> {
        while !self.output.is_empty() {
            match self.stream.write(&self.output) {
                Ok(written) => {
                    self.output.drain(..written);
                }
                Err(error) if error.kind() == ErrorKind::WouldBlock => break,
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) => return Err(error).context("write"),
            }
        }
        Ok(())
    }
}

const TEXT: u8 = 0x1;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const PONG: u8 = 0xA;

/// The first whole frame of `input` from the server (unmasked): its
/// opcode, payload and length in bytes; `None` while it is not whole.
fn server_frame(input: &[u8]) -> anyhow::Result<Option<(u8, &[u8], usize)>> {
    let (Some(&first), Some(&second)) = (input.first(), input.get(1)) else {
        return Ok(None);
    };
    if second & 0x80 != 0 {
        bail!("a masked frame from the server");
    }
    let (header, length) = match second & 0x7F {
        126 => match input.get(2..4) {
            Some(bytes) => (4, usize::from(u16::from_be_bytes([bytes[0], bytes[1]]))),
            None => return Ok(None),
        },
        127 => match input
            .get(2..10)
            .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
        {
            Some(bytes) => (10, usize::try_from(u64::from_be_bytes(bytes))?),
            None => return Ok(None),
        },
        short => (2, usize::from(short)),
    };
    Ok(input
        .get(header..header + length)
        .map(|payload| (first & 0x0F, payload, header + length)))
}

/// Appends a final client frame (masked, as RFC 6455 requires of clients).
fn client_frame(opcode: u8, payload: &[u8], out: &mut Vec<u8>) {
    out.push(0x80 | opcode);
    match u16::try_from(payload.len()) {
        Ok(length) if length < 126 => out.push(0x80 | length as u8),
        Ok(length) => {
            out.push(0x80 | 126);
            out.extend_from_slice(&length.to_be_bytes());
        }
        Err(_) => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(payload.len() as u64).to_be_bytes());
        }
    }
    let mask: [u8; 4] = rand::random();
    out.extend_from_slice(&mask);
    out.extend(
        payload
            .iter()
            .zip(mask.iter().cycle())
            .map(|(byte, mask)| byte ^ mask),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_frames_are_read_whole_with_every_length_form() {
        assert_eq!(server_frame(&[0x81]).unwrap(), None);
        assert_eq!(
            server_frame(&[0x81, 2, b'4', b'0', 0x89]).unwrap(),
            Some((TEXT, &b"40"[..], 4))
        );
        let mut long = vec![0x81, 126, 1, 0];
        long.extend(std::iter::repeat_n(b'x', 256));
        assert_eq!(server_frame(&long[..100]).unwrap(), None, "not whole yet");
        assert_eq!(server_frame(&long).unwrap().map(|frame| frame.2), Some(260));
        assert!(server_frame(&[0x81, 0x82, 0, 0, 0, 0, 1, 2]).is_err());
    }

    #[test]
    fn client_frames_are_masked_and_unmask_to_the_payload() {
        let mut out = Vec::new();
        client_frame(TEXT, b"3", &mut out);
        assert_eq!(out.len(), 7);
        assert_eq!(&out[..2], &[0x81, 0x81]);
        assert_eq!(out[6] ^ out[2], b'3');
        let mut long = Vec::new();
        client_frame(TEXT, &[7; 300], &mut long);
        assert_eq!(&long[..4], &[0x81, 0x80 | 126, 1, 44]);
        let mask = [long[4], long[5], long[6], long[7]];
        assert!(
            long[8..]
                .iter()
                .zip(mask.iter().cycle())
                .all(|(b, m)| b ^ m == 7)
        );
    }
}
