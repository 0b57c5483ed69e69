// Connects over a raw WebSocket, completes the Socket.IO handshake with the
// token, then sends malformed frames. Prints {"closed": true} and exits 0
// when the server closes the socket; exits 2 if it is still open after 5 s.
import WebSocket from "ws";

const [baseUrl, token] = process.argv.slice(2);
const ws = new WebSocket(baseUrl.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket");
const timer = setTimeout(() => { console.log(JSON.stringify({ closed: false })); process.exit(2); }, 5000);
ws.on("message", (data) => {
  const text = data.toString();
  if (text.startsWith("0")) ws.send("40" + JSON.stringify({ token }));
  if (text.startsWith("40")) for (let i = 0; i < 100; i++) ws.send("4" + "{not socket.io" + i);
});
ws.on("close", () => { clearTimeout(timer); console.log(JSON.stringify({ closed: true })); process.exit(0); });
ws.on("error", () => {});
