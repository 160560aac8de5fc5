/**
 * The baseline for `npm run bench`: the chat protocol (docs/protocol.md) implemented the
 * straightforward way, with plain node:net and protobufjs and no RxJS. It loads the schema at
 * run time, decodes each frame as it completes and writes each echo on its own.
 *
 *   node dist/bench/baseline-server.js [--host H] [--port P]
 */
import Long from 'long';
import { createServer, Socket } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as protobuf from 'protobufjs';

const root = protobuf.loadSync(join(__dirname, '..', '..', 'proto', 'chat.proto'));
const ChatMessage = root.lookupType('ChatMessage');
const Handshake = root.lookupType('Handshake');

interface Echoable {
  to: Long;
  msg: string;
}

function serve(socket: Socket, id: Long): void {
  socket.on('error', () => socket.destroy());
  socket.write(Handshake.encodeDelimited({ id }).finish());
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    for (;;) {
      const reader = protobuf.Reader.create(pending);
      let length: number;
      try {
        length = reader.uint32();
      } catch {
        return; // the length prefix is not all here yet
      }
      const end = reader.pos + length;
      if (end > pending.length) return;
      const message = ChatMessage.decode(pending.subarray(reader.pos, end)) as unknown as Echoable;
      socket.write(
        ChatMessage.encodeDelimited({ from: id, to: message.to, msg: message.msg }).finish(),
      );
      pending = pending.subarray(end);
    }
  });
}

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8080' },
  },
});
let lastId = 0;
const server = createServer((socket) => serve(socket, Long.fromNumber(++lastId)));
server.listen(Number(values.port), values.host, () => {
  const address = server.address();
  if (address && typeof address === 'object') {
    process.stderr.write(`listening on ${address.address}:${address.port}\n`);
  }
});
process.on('SIGTERM', () => process.exit(0));
