/**
 * The floor for `npm run bench`: the least a Node.js server can do for the load tester's loads of
 * the chat protocol (docs/protocol.md), so that the chat server's figures can be read against what
 * node:net itself costs on the machine. It decodes no more than it must and keeps nothing.
 *
 * - The echo: each frame's `from` is rewritten in its bytes, and the echoes of a chunk go out in
 *   one write, with TCP_NODELAY as the server.
 * - Direct messages, once a connection says hello (it is welcomed as a new user): a message to
 *   another connected user goes back to its sender with the receipt DELIVERED and on to the
 *   recipient with the recipient's next delivery number. What a connection is owed in a turn of
 *   the event loop goes out in one write, as the server's replies do. Acknowledgements are read
 *   and dropped: nothing is stored, so that the cell says what the two hops and the
 *   acknowledgements cost without a store.
 *
 * It answers only what the load tester sends (`from`, if present, first, then `to`), and is no
 * server.
 *
 *   node dist/bench/floor-server.js [--host H] [--port P]
 */
import { createServer, Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { copyBytes, varintLength, writeVarint } from '../src/protocol/byte-writing';
import { MAX_VARINT_BYTES } from '../src/protocol/frame-decoder';

const FROM_TAG = 0x08;
const TO_TAG = 0x10;
const DELIVERY_TAG = 0x20;
const HELLO_TAG = 0x3a;
const ACK_TAG = 0x40;
/** `receipt` with `status` DELIVERED: field 6, two bytes. */
const RECEIPT_DELIVERED = Buffer.from([0x32, 0x02, 0x08, 0x01]);
const NO_RECEIPT = Buffer.alloc(0);
/** `notice` with `kind` WELCOME and `code` NEW_USER, before the welcomed `id` (field 4). */
const WELCOME_HEAD = [0x4a, 0, 0x08, 0x01, 0x18, 0x02, 0x20];

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

/** Calls `visit` with where each whole frame's body starts and ends; returns where the last ends. */
function eachFrame(bytes: Buffer, visit: (start: number, end: number) => void): number {
  let read = 0;
  for (;;) {
    const length = readVarint(bytes, read);
    if (!length || length.end + length.value > bytes.length) return read;
    read = length.end + length.value;
    visit(length.end, read);
  }
}

/** Where a frame's body starts once a leading `from` is skipped: what an echo copies after its own. */
function afterFrom(bytes: Buffer, start: number): number {
  const skipped = bytes[start] === FROM_TAG ? readVarint(bytes, start + 1) : undefined;
  return skipped ? skipped.end : start;
}

/** The `to` of a frame whose body (after `from`) starts at `rest`, if it comes first: 0 if not. */
function addressee(bytes: Buffer, rest: number): number {
  return bytes[rest] === TO_TAG ? (readVarint(bytes, rest + 1)?.value ?? 0) : 0;
}

/** One connection: its user, and what it is owed as a direct-message client. */
interface Client {
  readonly socket: Socket;
  readonly id: number;
  /** The `from` field of this user's messages: tag and varint. */
  readonly from: Buffer;
  /** It said hello: its frames are direct messages and acknowledgements. */
  direct: boolean;
  /** Its last delivery number. */
  delivered: number;
  /** What it is owed in this turn of the event loop, written in one write when the turn ends. */
  owed: Buffer[];
}

const clients = new Map<number, Client>();
/** The clients owed something in this turn of the event loop. */
let owing: Client[] = [];

function owe(client: Client, bytes: Buffer): void {
  if (owing.length === 0) setImmediate(payDebts);
  if (client.owed.length === 0) owing.push(client);
  client.owed.push(bytes);
}

function payDebts(): void {
  for (const client of owing) {
    const [only] = client.owed;
    client.socket.write(only && client.owed.length === 1 ? only : Buffer.concat(client.owed));
    client.owed = [];
  }
  owing = [];
}

function fromField(id: number): Buffer {
  const from = Buffer.allocUnsafe(1 + MAX_VARINT_BYTES);
  from[0] = FROM_TAG;
  return from.subarray(0, writeVarint(from, 1, id));
}

function welcome({ id }: Client): Buffer {
  const notice = Buffer.from([...WELCOME_HEAD, ...new Array<number>(MAX_VARINT_BYTES)]);
  const end = writeVarint(notice, WELCOME_HEAD.length, id);
  notice[1] = end - 2;
  const frame = Buffer.allocUnsafe(1 + end);
  frame[0] = end;
  notice.copy(frame, 1, 0, end);
  return frame;
}

/** Whether the first frame in `bytes` is a hello. */
function startsWithHello(bytes: Buffer): boolean {
  const length = readVarint(bytes, 0);
  return length !== undefined && bytes[length.end] === HELLO_TAG;
}

/** The delivery to `recipient` of a message (`bytes[start, end)`, after `from`) from `from`. */
function delivery(recipient: Client, from: Buffer, bytes: Buffer, start: number, end: number) {
  const number = ++recipient.delivered;
  const length = from.length + end - start + 1 + varintLength(number);
  const frame = Buffer.allocUnsafe(varintLength(length) + length);
  let at = writeVarint(frame, 0, length);
  at = copyBytes(from, 0, from.length, frame, at);
  at = copyBytes(bytes, start, end, frame, at);
  frame[at++] = DELIVERY_TAG;
  writeVarint(frame, at, number);
  return frame;
}

/**
 * The replies to the whole frames in `bytes`, in one buffer, and where the last frame ends: the
 * echo of each message, with the receipt DELIVERED when it goes to another connected user (a
 * client that said hello), who is then owed its delivery. Hello and acknowledgements get none.
 */
function replies(client: Client, bytes: Buffer): { out: Buffer; read: number } {
  const { from } = client;
  // A reply is at most its frame, less a `from` of one byte, plus ours, a receipt and a longer
  // prefix: the load tester's messages are longer than all that.
  const out = Buffer.allocUnsafe(2 * bytes.length + 16);
  let written = 0;
  const read = eachFrame(bytes, (start, end) => {
    const tag = bytes[start];
    if (tag === HELLO_TAG || tag === ACK_TAG) return;
    const rest = afterFrom(bytes, start);
    const to = client.direct ? addressee(bytes, rest) : client.id;
    const recipient = to === client.id ? undefined : clients.get(to);
    const receipt = recipient ? RECEIPT_DELIVERED : NO_RECEIPT;
    written = writeVarint(out, written, from.length + end - rest + receipt.length);
    written = copyBytes(from, 0, from.length, out, written);
    written = copyBytes(bytes, rest, end, out, written);
    written = copyBytes(receipt, 0, receipt.length, out, written);
    if (recipient) owe(recipient, delivery(recipient, from, bytes, rest, end));
  });
  return { out: out.subarray(0, written), read };
}

function serve(socket: Socket, id: number): void {
  socket.setNoDelay(true);
  const from = fromField(id);
  const client: Client = { socket, id, from, direct: false, delivered: 0, owed: [] };
  clients.set(id, client);
  socket.on('error', () => socket.destroy());
  socket.on('close', () => clients.delete(id));
  const handshake = Buffer.allocUnsafe(1 + from.length);
  handshake[0] = from.length;
  from.copy(handshake, 1);
  socket.write(handshake);
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    const bytes = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    if (!client.direct && startsWithHello(bytes)) {
      client.direct = true;
      owe(client, welcome(client));
    }
    const { out, read } = replies(client, bytes);
    pending = bytes.subarray(read);
    if (out.length === 0) return;
    if (client.direct) owe(client, out);
    else socket.write(out);
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
