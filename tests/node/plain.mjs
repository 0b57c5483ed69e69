// A plain WebSocket client of /ws?token=…: sends {"event":"ping"} and, with an
// order id, {"event":"join_booking"}; prints each frame received as a JSON
// line and exits 0 when `waitFor` arrives, 2 after 5 s.
import WebSocket from "ws";

const [baseUrl, token, orderId, waitFor] = process.argv.slice(2);
const ws = new WebSocket(baseUrl.replace("http", "ws") + "/ws?token=" + encodeURIComponent(token));
const timer = setTimeout(() => { console.log(JSON.stringify({ event: "timeout" })); process.exit(2); }, 5000);
ws.on("message", (data) => {
  const frame = JSON.parse(data.toString());
  console.log(JSON.stringify(frame));
  if (frame.event === "connected") {
    ws.send(JSON.stringify({ event: "ping", data: {} }));
    if (orderId && orderId !== "-") ws.send(JSON.stringify({ event: "join_booking", data: orderId }));
  }
  if (frame.event === waitFor) { clearTimeout(timer); ws.close(); process.exit(0); }
});
ws.on("close", () => { console.log(JSON.stringify({ event: "closed" })); process.exit(waitFor === "closed" ? 0 : 1); });
ws.on("error", () => {});
