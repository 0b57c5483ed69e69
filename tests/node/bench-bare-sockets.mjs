// Holds N WebSockets on the bare actix-ws server (examples/bare-websockets.rs)
// and reports the server's RSS per socket. Usage:
//   node bench-bare-sockets.mjs <wsUrl> <serverPid> <sockets>
import WebSocket from "ws";
import { readFileSync } from "node:fs";

const [url, serverPid, count = "10000"] = process.argv.slice(2);
const n = Number(count);
const rssKiB = () => Number(readFileSync(`/proc/${serverPid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)[1]);
const rssBefore = rssKiB();
const sockets = [];
let greeted = 0;
await new Promise((resolve) => {
  const open = (i) => {
    if (i >= n) return;
    const ws = new WebSocket(url);
    ws.once("message", () => { greeted += 1; if (greeted === n) resolve(); });
    ws.on("error", () => {});
    sockets.push(ws);
    if (i % 200 === 199) setTimeout(() => open(i + 1), 20); else open(i + 1);
  };
  open(0);
});
await new Promise((r) => setTimeout(r, 1000));
const rssConnected = rssKiB();
console.log(JSON.stringify({
  profile: "bare-actix-ws",
  sockets: n,
  rssBeforeKiB: rssBefore,
  rssConnectedKiB: rssConnected,
  rssPerSocketKiB: Math.round(((rssConnected - rssBefore) / n) * 10) / 10,
}));
for (const ws of sockets) ws.terminate();
process.exit(0);
