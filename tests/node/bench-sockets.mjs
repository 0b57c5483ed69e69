// The socket benchmark of `make bench`: one customer, N WebSocket sockets
// (Engine.IO/Socket.IO spoken by hand over `ws` to keep the load tool light),
// then one order event to the customer's room reaching all of them.
// Usage: node bench-sockets.mjs <baseUrl> <serverPid> <sockets>
import WebSocket from "ws";
import { readFileSync } from "node:fs";

const [baseUrl, serverPid, count = "10000"] = process.argv.slice(2);
const n = Number(count);
const rssKiB = () => Number(readFileSync(`/proc/${serverPid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)[1]);
const post = async (path, body, token, key) => {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  if (key) headers["x-idempotency-key"] = key;
  const response = await fetch(`${baseUrl}/api/v1/${path}`, { method: "POST", headers, body: JSON.stringify(body) });
  return response.json();
};

const phone = "9" + String(Date.now()).slice(-9);
const sent = await post("auth/send-otp", { phone, role: "customer" });
const login = await post("auth/verify-otp", { phone, otp: sent.data.otp, role: "customer" });
const token = login.data.tokens.accessToken;
const order = await post("bookings/orders", {
  pickup: { latitude: 19.076, longitude: 72.8777, address: "Andheri" },
  drop: { latitude: 18.5204, longitude: 73.8567, address: "Hadapsar" },
  distanceKm: 150,
  vehicleRequirements: [{ vehicleType: "open", vehicleSubtype: "17 Feet", quantity: 1, pricePerTruck: 9000 }],
}, token, `bench-${Date.now()}`);
const orderId = order.data.order.id;

const rssBefore = rssKiB();
const received = [];
let connected = 0;
let cancelAt = 0;
const sockets = [];
await new Promise((resolve) => {
  const open = (i) => {
    if (i >= n) return;
    const ws = new WebSocket(baseUrl.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket");
    ws.on("message", (data) => {
      const text = data.toString();
      if (text[0] === "0") ws.send("40" + JSON.stringify({ token }));
      else if (text === "2") ws.send("3");
      else if (text.startsWith("40")) { connected += 1; if (connected === n) resolve(); }
      else if (text.startsWith('42["order_cancelled"')) received.push(Date.now() - cancelAt);
    });
    ws.on("error", () => {});
    sockets.push(ws);
    // Open in small bursts so the accept queue keeps up.
    if (i % 200 === 199) setTimeout(() => open(i + 1), 20); else open(i + 1);
  };
  open(0);
});
await new Promise((r) => setTimeout(r, 1000));
const rssConnected = rssKiB();

cancelAt = Date.now();
await post(`bookings/orders/${orderId}/cancel`, {}, token, `cancel-${Date.now()}`);
const deadline = Date.now() + 30000;
while (received.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
received.sort((a, b) => a - b);
const pct = (p) => received[Math.max(0, Math.ceil((p / 100) * received.length) - 1)];
console.log(JSON.stringify({
  profile: "bench-sockets",
  sockets: n,
  connected,
  received: received.length,
  rssBeforeKiB: rssBefore,
  rssConnectedKiB: rssConnected,
  rssPerSocketKiB: Math.round(((rssConnected - rssBefore) / n) * 10) / 10,
  deliveryP50Ms: pct(50),
  deliveryP99Ms: pct(99),
  deliveryMaxMs: received[received.length - 1],
}));
for (const ws of sockets) ws.terminate();
process.exit(received.length === n ? 0 : 1);
