/**
 * The floor for `npm run bench`: the least a Node.js server can do for the load tester's loads of
 * the chat protocol (docs/protocol.md), so that the chat server's figures can be read against what
 * node:net itself costs on the machine. It decodes no more than it must and keeps nothing.
 *
 * - The echo: each frame's `from` is rewritten in its bytes, and the echoes of a chunk go out in
 *   one write, with TCP_NODELAY as the server.
 * - Direct messages, once a connection says hello (welcomed as a new user): a message to another
 *   connected user goes back to its sender with the receipt DELIVERED and on to the recipient with
 *   the recipient's next delivery number; a chunk's echoes are one write, and so are the
 *   deliveries it makes for each recipient. Acknowledgements are read and dropped: nothing is
 *   stored, so that the cell says what the two hops and the acknowledgements cost without a store.
 *
 * It answers only what the load tester sends (`from`, if present, first), and is no server.
 *
 *   node dist/bench/floor-server.js [--host H] [--port P]
 */
import { createServer, Socket } from 'node:net';
import { parseArgs } from 'node:util';

const FROM_TAG = 0x08;
const TO_TAG = 0x10;
const DELIVERY_TAG = 0x20;
const HELLO_TAG = 0x3a;
const ACK_TAG = 0x40;
/** `receipt` with `status` DELIVERED: field 6, two bytes. */
const RECEIPT_DELIVERED = Buffer.from([0x32, 0x02, 0x08, 0x01]);
/** `notice` with `kind` WELCOME and `code` NEW_USER, before the welcomed `id` (field 4). */
const WELCOME_HEAD = [0x4a, 0, 0x08, 0x01, 0x18, 0x02, 0x20];
const NO_RECEIPT = Buffer.alloc(0);
/** The most a varint of 64 bits takes. */
const MAX_VARINT = 10;

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

/** One connection: its user's id and `from` field, and what a direct-message client is owed. */
interface Client {
  readonly socket: Socket;
  readonly id: number;
  /** The `from` field of this user's messages: tag and varint. */
  readonly from: Buffer;
  /** It said hello: its frames are read field by field. */
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
    client.socket.write(
      client.owed.length === 1 ? (client.owed[0] as Buffer) : Buffer.concat(client.owed),
    );
    client.owed = [];
  }
  owing = [];
}

function fromField(id: number): Buffer {
  const from = Buffer.allocUnsafe(1 + MAX_VARINT);
  from[0] = FROM_TAG;
  return from.subarray(0, writeVarint(from, 1, id));
}

/** The whole frames at the start of `bytes`: where each body starts and ends, and where the last one ends. */
function framesIn(bytes: Buffer): { bodies: [number, number][]; read: number } {
  const bodies: [number, number][] = [];
  let read = 0;
  for (;;) {
    const length = readVarint(bytes, read);
    if (!length || length.end + length.value > bytes.length) return { bodies, read };
    read = length.end + length.value;
    bodies.push([length.end, read]);
  }
}

/** The echoes of the frames of a connection that has not said hello. */
function echoes(client: Client, bytes: Buffer, bodies: readonly [number, number][]): Buffer {
  const { from } = client;
  // Each echo is at most its frame, less a `from` of one byte, plus ours and a longer prefix.
  const out = Buffer.allocUnsafe(2 * bytes.length + 16);
  let written = 0;
  for (const [start, end] of bodies) {
    const rest = afterFrom(bytes, start);
    written = writeVarint(out, written, from.length + end - rest);
    written += from.copy(out, written);
    written += bytes.copy(out, written, rest, end);
  }
  return out.subarray(0, written);
}

function welcome(client: Client): Buffer {
  const notice = Buffer.from([...WELCOME_HEAD, ...new Array<number>(MAX_VARINT)]);
  const end = writeVarint(notice, WELCOME_HEAD.length, client.id);
  notice[1] = end - 2;
  const frame = Buffer.allocUnsafe(1 + end);
  frame[0] = end;
  notice.copy(frame, 1, 0, end);
  return frame;
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

/**
 * The answers to the frames of a connection that said hello: its echoes, with a receipt for a
 * message to another user, whose delivery joins that user's deliveries of this chunk.
 */
function converse(client: Client, bytes: Buffer, bodies: readonly [number, number][]): Buffer {
  const { from } = client;
  const out = Buffer.allocUnsafe(2 * bytes.length + RECEIPT_DELIVERED.length * bodies.length + 16);
  let written = 0;
  for (const [start, end] of bodies) {
    if (bytes[start] === HELLO_TAG || bytes[start] === ACK_TAG) continue;
    const rest = afterFrom(bytes, start);
    const body = bytes.subarray(rest, end);
    const to = addressee(bytes, rest);
    const recipient = to === client.id ? undefined : clients.get(to);
    const receipt = recipient ? RECEIPT_DELIVERED : NO_RECEIPT;
    written = writeVarint(out, written, from.length + body.length + receipt.length);
    written += from.copy(out, written);
    written += body.copy(out, written);
    written += receipt.copy(out, written);
    if (recipient) owe(recipient, delivery(from, body, ++recipient.delivered));
  }
  return out.subarray(0, written);
}

/** The delivery of a message (`body`, after `from`) from `from`, with its number. */
function delivery(from: Buffer, body: Buffer, number: number): Buffer {
  const numbered = Buffer.allocUnsafe(1 + MAX_VARINT);
  numbered[0] = DELIVERY_TAG;
  const numberLength = writeVarint(numbered, 1, number);
  const frame = Buffer.allocUnsafe(MAX_VARINT + from.length + body.length + numberLength);
  let at = writeVarint(frame, 0, from.length + body.length + numberLength);
  at += from.copy(frame, at);
  at += body.copy(frame, at);
  at += numbered.copy(frame, at, 0, numberLength);
  return frame.subarray(0, at);
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
    const { bodies, read } = framesIn(bytes);
    pending = bytes.subarray(read);
    const [first] = bodies;
    if (!client.direct && first && bytes[first[0]] === HELLO_TAG) {
      client.direct = true;
      owe(client, welcome(client));
    }
    if (!client.direct) {
      if (bodies.length > 0) socket.write(echoes(client, bytes, bodies));
      return;
    }
    const answers = converse(client, bytes, bodies);
    if (answers.length > 0) owe(client, answers);
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
