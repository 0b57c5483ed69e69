// Drives the reference socket.io-client for the end-to-end tests. Usage:
//   node client.mjs <baseUrl> <token> [joinOrderId] [waitForEvent] [timeoutMs] [mode]
// mode: "websocket" (WebSocket only, as the captain app), "upgrade" (polling
// first, then the upgrade, as the customer app) or "polling" (polling only).
// Prints one JSON line per thing that happens: {"kind": "connected" | "event" |
// "connect_error" | "disconnect", ...}, and exits after `waitForEvent` arrives
// (or after the timeout, with code 2).
import { io } from "socket.io-client";

const [baseUrl, token, joinOrderId, waitFor, timeoutMs = "5000", transport = "websocket"] = process.argv.slice(2);
const print = (line) => process.stdout.write(JSON.stringify(line) + "\n");
const transports = { websocket: ["websocket"], upgrade: ["polling", "websocket"], polling: ["polling"] }[transport];
// LAST_SEQ resumes a transporter after a disconnect (auth.lastSeq, as the captain app sends it).
const auth = process.env.LAST_SEQ ? { token, lastSeq: process.env.LAST_SEQ } : { token };
const socket = io(baseUrl, { transports, auth, reconnection: false });
socket.io.on("open", () => print({ kind: "transport", name: socket.io.engine.transport.name }));
socket.io.on("ping", () => print({ kind: "ping" }));

const timer = setTimeout(() => { print({ kind: "timeout" }); process.exit(2); }, Number(timeoutMs));
const done = (code) => { clearTimeout(timer); socket.close(); process.exit(code); };

socket.on("connect", () => print({ kind: "connected", id: socket.id }));
socket.on("connect_error", (error) => { print({ kind: "connect_error", message: error.message }); done(waitFor === "connect_error" ? 0 : 1); });
socket.on("disconnect", (reason) => print({ kind: "disconnect", reason }));
socket.onAny((event, data) => {
  print({ kind: "event", event, data, transport: socket.io.engine.transport.name });
  if (event === "connected") {
    socket.emit("ping", {});
    // NO_HEARTBEAT: a test whose database hangs (the heartbeat writes).
    if (!process.env.NO_HEARTBEAT) socket.emit("heartbeat", { t: "hb", lat: 19.07, lng: 72.87 }, (answer) => {
      print({ kind: "ack", answer });
      if (waitFor === "ack") done(0);
    });
    if (joinOrderId && joinOrderId !== "-") socket.emit("join_booking", joinOrderId);
    // EMIT: a JSON list of [event, data] the test wants sent after connecting.
    // A third element `true` asks for an ack, printed as {"kind":"ack","event":name}.
    for (const [name, payload, ack] of JSON.parse(process.env.EMIT || "[]")) {
      if (ack) socket.emit(name, payload, (answer) => print({ kind: "ack", event: name, answer }));
      else socket.emit(name, payload);
    }
  }
  if (event === waitFor) done(0);
});
