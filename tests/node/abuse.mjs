// Tries a running server as an attacker would, for scripts/bench-abuse.sh.
// Usage: node abuse.mjs <baseUrl> methods <count> | handshakes <count>
//   methods:    <count> requests with made-up HTTP methods, 64 at a time;
//               prints {"sent", "statuses": {status: count}}
//   handshakes: <count> Engine.IO polling handshakes from this address,
//               64 at a time; prints {"sent", "statuses": {...}}
import http from "node:http";

const [baseUrl, mode, countText] = process.argv.slice(2);
const count = Number(countText);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const statuses = {};

function once(n) {
  return new Promise((resolve) => {
    const url = new URL(mode === "methods" ? "/api/v1/health" : "/socket.io/?EIO=4&transport=polling", baseUrl);
    const method = mode === "methods" ? `MADEUP${n}` : "GET";
    const req = http.request(url, { method, agent }, (res) => {
      res.resume();
      res.on("end", () => {
        statuses[res.statusCode] = (statuses[res.statusCode] || 0) + 1;
        resolve();
      });
    });
    req.on("error", () => {
      statuses.error = (statuses.error || 0) + 1;
      resolve();
    });
    req.end();
  });
}

let next = 0;
async function worker() {
  while (next < count) {
    const n = next++;
    await once(n);
  }
}
await Promise.all(Array.from({ length: 64 }, worker));
agent.destroy();
console.log(JSON.stringify({ sent: count, statuses }));
