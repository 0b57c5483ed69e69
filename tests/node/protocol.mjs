// Drives the reference socket.io-client against the conformance server
// (weelo_realtime::conformance): binary arguments both ways, acks, and
// several namespaces on one connection. Usage:
//   node protocol.mjs <baseUrl> <websocket|polling>
// Prints one JSON object with what came back (binary as {"bytes": [...]}).
import { Manager } from "socket.io-client";

const [base, mode] = process.argv.slice(2);
const out = {};
const finish = (code) => {
  process.stdout.write(JSON.stringify(out) + "\n");
  process.exit(code);
};
setTimeout(() => { out.timeout = true; finish(2); }, 8000);

const plain = (value) => {
  if (value instanceof ArrayBuffer) return { bytes: [...new Uint8Array(value)] };
  if (ArrayBuffer.isView(value)) return { bytes: [...new Uint8Array(value.buffer, value.byteOffset, value.byteLength)] };
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
};
const once = (socket, event) => new Promise((resolve) => socket.once(event, (...args) => resolve(args)));

const manager = new Manager(base, { transports: [mode], reconnection: false });
const main = manager.socket("/", { auth: { token: "123" } });
const custom = manager.socket("/custom", { auth: { token: "abc" } });
const random = manager.socket("/random");

// Listen before anything arrives: the three answers race.
const [auth, customAuth, refused] = [once(main, "auth"), once(custom, "auth"), once(random, "connect_error")];
out.auth = (await auth)[0];
out.customAuth = (await customAuth)[0];
out.refused = (await refused)[0].message;
out.transport = manager.engine.transport.name;

main.emit("message", 1, "2", Buffer.from([1, 2, 3]), { nested: Buffer.from([4, 5]) });
out.messageBack = plain(await once(main, "message-back"));
out.ack = plain(await new Promise((resolve) => main.emit("message-with-ack", "x", Buffer.from([9, 8]), (...args) => resolve(args))));
out.customAck = plain(await new Promise((resolve) => custom.emit("message-with-ack", { n: 7 }, (...args) => resolve(args))));
finish(0);
