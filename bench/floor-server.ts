/**
 * The floor for `npm run bench`: the least a Node.js server can do for the echo of the chat
 * protocol (docs/protocol.md), so that the chat server's figures can be read against what
 * node:net itself costs on the machine. It decodes nothing: each frame's `from` is rewritten in
 * its bytes, and the echoes of a chunk go out in one write, with TCP_NODELAY as the server. It
 * answers only what the load tester sends (`from`, if present, first), and is no server.
 *
 *   node dist/bench/floor-server.js [--host H] [--port P]
 */
import { createServer, Socket } from 'node:net';
import { parseArgs } from 'node:util';

const FROM_TAG = 0x08;

function writeVarint(target: Buffer, offset: number, value: number): number {
  let rest = value;
  let at = offset;
  while (rest > 0x7f) {
    target[at++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  target[at++] = rest;
  return at;
}

/** The varint at `start`: its value and where it ends, or undefined when it is not all in `bytes`. */
function readVarint(bytes: Buffer, start: number): { value: number; end: number } | undefined {
  let value = 0;
  for (let i = start, shift = 0; i < bytes.length && shift < 35; i++, shift += 7) {
    const byte = bytes[i] as number;
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return { value, end: i + 1 };
  }
  return undefined;
}

function serve(socket: Socket, id: number): void {
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  const from = Buffer.allocUnsafe(11);
  from[0] = FROM_TAG;
  const fromLength = writeVarint(from, 1, id);
  const handshake = Buffer.allocUnsafe(1 + fromLength);
  handshake[0] = fromLength;
  from.copy(handshake, 1, 0, fromLength);
  socket.write(handshake);
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    const bytes = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    // Each echo is at most its frame, less a `from` of one byte, plus ours and a longer prefix.
    const echoes = Buffer.allocUnsafe(2 * bytes.length + 16);
    let read = 0;
    let written = 0;
    for (;;) {
      const length = readVarint(bytes, read);
      if (!length || length.end + length.value > bytes.length) break;
      const end = length.end + length.value;
      const skipped =
        bytes[length.end] === FROM_TAG ? readVarint(bytes, length.end + 1) : undefined;
      const rest = skipped ? skipped.end : length.end;
      written = writeVarint(echoes, written, fromLength + end - rest);
      written += from.copy(echoes, written, 0, fromLength);
      written += bytes.copy(echoes, written, rest, end);
      read = end;
    }
    pending = bytes.subarray(read);
    if (written > 0) socket.write(echoes.subarray(0, written));
  });
}

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8080' },
  },
});
let lastId = 0;
const server = createServer((socket) => serve(socket, ++lastId));
server.listen(Number(values.port), values.host, () => {
  const address = server.address();
  if (address && typeof address === 'object') {
    process.stderr.write(`listening on ${address.address}:${address.port}\n`);
  }
});
process.on('SIGTERM', () => process.exit(0));
