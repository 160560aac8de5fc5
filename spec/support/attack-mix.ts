/**
 * The attack suite's parts, shared by the short run (spec/e2e/attack.spec.ts) and the long one
 * (bench/soak.ts): honest users who chat and check that every message arrives exactly once and
 * in order, the attackers, and what watches the server (its memory, its log, who it still has).
 *
 * Every attacker connects from an address of its own in 127.0.0.0/8 (Linux routes the whole
 * block to the loopback interface), so a limit per address turns away the flood from one
 * address and nobody else; honest users connect from 127.0.0.1.
 *
 * Nothing here uses mocha or chai: a check that fails is a line in a report's `failures`.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, Socket } from 'node:net';
import Long from 'long';
import { chatMessageCodec, serverFrameCodec } from '../../src/protocol/chat-codec';
import {
  ChatMessage,
  NoticeCode,
  NoticeKind,
  ReceiptStatus,
  ServerFrame,
} from '../../src/protocol/messages';

/** Where each kind of client connects from. */
export const SOURCES = {
  honest: '127.0.0.1',
  garbage: '127.0.0.2',
  resets: '127.0.0.3',
  storm: '127.0.0.4',
  slowloris: '127.0.0.5',
  flood: '127.0.0.6',
  mailbox: '127.0.0.7',
} as const;

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls a condition of this process's own state (not the server's) every 10 ms until it holds. */
export async function waitUntil(condition: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) return false;
    await delay(10);
  }
  return true;
}

/** Whether `promise` settles within `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// The server under attack, and what is known about it.

/**
 * Where the server listens. `epoch` counts the kills of the server (the soak's), counted as the
 * kill begins: a check that needs the server up throughout compares it before and after.
 * `incarnation` counts the server processes, counted once the old one is gone: the one a new
 * connection reaches.
 */
export interface Target {
  readonly host: string;
  port: number;
  epoch: number;
  incarnation?: number;
}

/** The limits the server was started with. */
export interface Limits {
  readonly perIp: number;
  readonly rate: number;
  readonly burst: number;
  readonly frameTimeoutSec: number;
  readonly maxPending: number;
}

export function limitFlags(limits: Limits): string[] {
  return [
    ...['--max-clients-per-ip', String(limits.perIp)],
    ...['--max-msgs-per-sec', String(limits.rate)],
    ...['--msgs-burst', String(limits.burst)],
    ...['--frame-timeout', String(limits.frameTimeoutSec)],
    ...['--max-pending', String(limits.maxPending)],
  ];
}

/**
 * The address and port of every attacking socket that connected: the server logs each as a
 * connection (then a disconnection) or a refusal, which is how a run knows they are all gone.
 */
export class Ledger {
  /** Each endpoint, with the server's incarnation it connected to. */
  readonly entries: { readonly endpoint: string; readonly epoch: number }[] = [];

  /** @param target when the server may be restarted: whose incarnation each connection is of */
  constructor(private readonly target?: Target) {}

  get endpoints(): string[] {
    return this.entries.map(({ endpoint }) => endpoint);
  }

  /** The endpoints that connected to the server of `incarnation`. */
  endpointsOf(incarnation: number): string[] {
    return this.entries
      .filter((entry) => entry.epoch === incarnation)
      .map(({ endpoint }) => endpoint);
  }

  watch(socket: Socket): void {
    socket.once('connect', () => {
      const endpoint = `${socket.localAddress ?? '?'}:${socket.localPort ?? 0}`;
      this.entries.push({ endpoint, epoch: this.target?.incarnation ?? 0 });
    });
  }
}

/**
 * Whether the server's log shows every one of `endpoints` gone: refused, or connected and then
 * disconnected (as the user it resumed, if it did). A connection reset before the server
 * accepted it may be logged from `unknown:0`; each such line stands for one endpoint not seen.
 */
export function endpointsGone(lines: readonly string[], endpoints: readonly string[]): boolean {
  // What the log says of each endpoint, in order: a port may be used again by a later socket.
  const seen = new Map<string, string[]>(); // a connection's id, or 'refused'
  const note = (endpoint: string, what: string) => {
    const list = seen.get(endpoint);
    if (list) list.push(what);
    else seen.set(endpoint, [what]);
  };
  const becomes = new Map<string, string>();
  const disconnects = new Map<string, number>();
  const unknown: string[] = [];
  let unknownRefused = 0;
  for (const line of lines) {
    let match = /^user (\d+) connected from (\S+)$/.exec(line);
    if (match) {
      const [, id = '', from = ''] = match;
      if (from.startsWith('unknown')) unknown.push(id);
      else note(from, id);
      continue;
    }
    match = /^refused a connection from (\S+?): /.exec(line);
    if (match) {
      if ((match[1] ?? '').startsWith('unknown')) unknownRefused++;
      else note(match[1] ?? '', 'refused');
      continue;
    }
    match = /^user (\d+) resumed, on the connection accepted as user (\d+)$/.exec(line);
    if (match) {
      becomes.set(match[2] ?? '', match[1] ?? '');
      continue;
    }
    match = /^user (\d+) disconnected: /.exec(line);
    if (match) disconnects.set(match[1] ?? '', (disconnects.get(match[1] ?? '') ?? 0) + 1);
  }
  const needed = new Map<string, number>();
  const need = (connection: string) => {
    const id = becomes.get(connection) ?? connection;
    needed.set(id, (needed.get(id) ?? 0) + 1);
  };
  let unseen = 0;
  for (const endpoint of endpoints) {
    const what = seen.get(endpoint)?.shift();
    if (what === undefined) unseen++;
    else if (what !== 'refused') need(what);
  }
  unknown.forEach(need);
  if (unseen > unknown.length + unknownRefused) return false;
  return [...needed].every(([id, count]) => (disconnects.get(id) ?? 0) >= count);
}

/** Why the server says it closed each of `endpoints` that it accepted, counted by reason. */
export function disconnectReasons(
  lines: readonly string[],
  endpoints: readonly string[],
): Map<string, number> {
  // The latest connection from each endpoint: a port may have served an earlier socket too.
  const latest = new Map<string, string>();
  for (const line of lines) {
    const connected = /^user (\d+) connected from (\S+)$/.exec(line);
    if (connected) latest.set(connected[2] ?? '', connected[1] ?? '');
  }
  const ids = new Set(endpoints.map((endpoint) => latest.get(endpoint)));
  const reasons = new Map<string, number>();
  for (const line of lines) {
    const disconnected = /^user (\d+) disconnected: (.*)$/.exec(line);
    if (disconnected && ids.has(disconnected[1] ?? '')) {
      const reason = disconnected[2] ?? '';
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
  }
  return reasons;
}

const describeReasons = (reasons: Map<string, number>) =>
  [...reasons].map(([reason, count]) => `${count}× "${reason}"`).join(', ');

/** The log lines a server under attack may print; anything else is a failure. */
const EXPECTED_LOG_LINES: readonly RegExp[] = [
  /^listening on \S+$/,
  /^user \d+ connected from \S+$/,
  /^user \d+ resumed, on the connection accepted as user \d+$/,
  /^protocol error from user \d+: \S.*$/,
  /^refused a connection from \S+: (too many connections from \S+ \(\d+ at most\)|the server is full .*)$/,
  /^limit for user \d+: \S.*$/,
];

/** Why a connection may end while it is attacked; anything else is a failure. */
const EXPECTED_DISCONNECT_REASONS: readonly RegExp[] = [
  /^client closed the connection$/,
  /^connection reset by the client$/,
  /^connection reset$/,
  /^protocol error: \S.*$/,
  /^slow consumer: .*$/,
  /^a frame was begun and not finished within .*$/,
  /^write EPIPE$/,
  /^This socket has been ended by the other party \(EPIPE\)$/,
  /^resume refused: (no user \d+|wrong secret for user \d+)$/,
  /^the same user connected again$/,
];

/** What betrays a fault of the server itself, wherever it appears. */
const FAULTS =
  /TypeError|ReferenceError|SyntaxError|RangeError|unhandled|Unhandled|uncaught|Uncaught|\s+at \S+ \(|\bat .*:\d+:\d+|ERR_|assert|FATAL|panic/;

/** The lines of a server's stderr that are not what an attacked server should print. */
export function unexpectedLogLines(lines: readonly string[]): string[] {
  return lines.filter((line) => {
    if (FAULTS.test(line)) return true;
    const disconnected = /^user \d+ disconnected: (.*)$/.exec(line);
    if (disconnected) {
      return !EXPECTED_DISCONNECT_REASONS.some((reason) => reason.test(disconnected[1] ?? ''));
    }
    return !EXPECTED_LOG_LINES.some((pattern) => pattern.test(line));
  });
}

/** The resident memory of a process in bytes, from /proc/<pid>/status; undefined once it is gone. */
export function residentBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples a process's resident memory every 100 ms; `pid()` may change (a restarted server). */
export class MemoryWatch {
  peakBytes = 0;
  samples = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(pid: () => number | undefined) {
    const sample = () => {
      const id = pid();
      const bytes = id === undefined ? undefined : residentBytes(id);
      if (bytes === undefined) return;
      this.samples++;
      this.peakBytes = Math.max(this.peakBytes, bytes);
    };
    sample();
    this.timer = setInterval(sample, 100);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Reports: what an attack tried, how much, what held.

export class Report {
  tried = 0;
  seconds = 0;
  /** Rounds whose strict checks were skipped because the server was killed meanwhile. */
  interrupted = 0;
  readonly figures = new Map<string, number>();
  readonly held = new Set<string>();
  readonly failures: string[] = [];

  constructor(
    readonly name: string,
    readonly what: string,
    readonly unit: string,
  ) {}

  count(figure: string, by = 1): void {
    this.figures.set(figure, (this.figures.get(figure) ?? 0) + by);
  }

  max(figure: string, value: number): void {
    this.figures.set(figure, Math.max(this.figures.get(figure) ?? value, value));
  }

  /** A check: held, or a failure with `detail`. */
  check(holds: boolean, check: string, detail = ''): boolean {
    if (holds) this.held.add(check);
    else this.fail(`${check}${detail ? `: ${detail}` : ''}`);
    return holds;
  }

  fail(message: string): void {
    if (this.failures.length < 50) this.failures.push(message);
    else if (this.failures.length === 50) this.failures.push('… and more');
  }

  /** Times `attack` into `seconds`. */
  async timed(attack: () => Promise<void>): Promise<void> {
    const started = Date.now();
    try {
      await attack();
    } catch (error) {
      this.fail(
        `the attack itself failed: ${error instanceof Error ? error.stack : String(error)}`,
      );
    } finally {
      this.seconds += (Date.now() - started) / 1000;
    }
  }
}

/** The report of each attack; `how` says how this run carries out the three that differ. */
export function attackReports(how: { slowloris: string; flood: string; mailbox: string }) {
  return {
    garbage: new Report(
      'random garbage',
      'clients sending random bytes, mutated frames, bad frames and huge prefixes, then ending',
      'clients',
    ),
    resets: new Report(
      'resets mid-frame',
      'clients resetting (RST) inside a frame, a prefix, or while echoes are written',
      'clients',
    ),
    storm: new Report(
      'connect/disconnect storm',
      '24 at a time: connect then close, reset, end after the handshake, hello then reset',
      'connections',
    ),
    slowloris: new Report('slowloris', how.slowloris, 'clients'),
    flood: new Report('flood from one address', how.flood, 'connections'),
    mailbox: new Report('direct-message flood', how.mailbox, 'connections'),
  };
}

export interface AttackEnv {
  readonly target: Target;
  readonly limits: Limits;
  readonly ledger: Ledger;
  /** Resolves once the server's log shows every one of `endpoints` gone. */
  gone(endpoints: readonly string[]): Promise<void>;
  /** The lines the server (now running) has logged on stderr so far. */
  log(): readonly string[];
  /** The server may be killed meanwhile: checks that need it up throughout are skipped then. */
  readonly crashes: boolean;
}

// ---------------------------------------------------------------------------------------------
// A connection to the server, its frames decoded as they come.

const encoder = chatMessageCodec(1 << 24);
export const encode = (...messages: ChatMessage[]) => Buffer.from(encoder.encode(messages));

export function chat(to: bigint | number, msg: string): ChatMessage {
  return { from: Long.ZERO, to: Long.fromString(String(to)), msg };
}

export function hello(id?: bigint, secret?: Uint8Array): ChatMessage {
  return {
    ...chat(0, ''),
    hello: id === undefined ? {} : { id: Long.fromString(String(id)), secret: secret ?? null },
  };
}

export function ack(upTo: bigint): ChatMessage {
  return { ...chat(0, ''), ack: Long.fromString(String(upTo), true) };
}

const big = (value: Long | null | undefined) => BigInt((value ?? Long.ZERO).toString());

export class Peer {
  handshake: { id: bigint; secret: Buffer } | 'refused' | undefined;
  /** Frames after the handshake. */
  frames = 0;
  closedAt: number | undefined;
  /** Bytes from the server that are not valid frames: always a failure. */
  undecodable: string | undefined;
  readonly closed: Promise<void>;
  readonly endpoint: string;
  private readonly decoder = serverFrameCodec(1 << 24).decoder();

  constructor(
    readonly socket: Socket,
    private readonly onFrames: (frames: ServerFrame[]) => void = () => undefined,
  ) {
    this.endpoint = `${socket.localAddress ?? '?'}:${socket.localPort ?? 0}`;
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.closedAt = Date.now();
        resolve();
      }),
    );
    socket.on('data', (chunk) => {
      if (this.undecodable !== undefined) return;
      let frames: ServerFrame[];
      try {
        frames = this.decoder.push(chunk);
      } catch (error) {
        this.undecodable = error instanceof Error ? error.message : String(error);
        return;
      }
      const rest: ServerFrame[] = [];
      for (const frame of frames) {
        if ('handshake' in frame) {
          const { id, error, secret } = frame.handshake;
          this.handshake = error
            ? 'refused'
            : { id: big(id), secret: Buffer.from(secret ?? Buffer.alloc(0)) };
        } else {
          this.frames++;
          rest.push(frame);
        }
      }
      if (rest.length > 0 || frames.length > 0) this.onFrames(rest);
    });
  }

  get isClosed(): boolean {
    return this.closedAt !== undefined;
  }

  /** Resolves once the handshake arrived (or the connection closed without one). */
  async handshaken(ms = 5000): Promise<Peer['handshake']> {
    await waitUntil(() => this.handshake !== undefined || this.isClosed, ms);
    return this.handshake;
  }

  write(bytes: Uint8Array): boolean {
    if (this.socket.destroyed || this.socket.writableEnded) return false;
    return this.socket.write(bytes);
  }

  /** Waits until the socket can take more, or closes. */
  async drained(): Promise<void> {
    if (!this.socket.writableNeedDrain || this.isClosed) return;
    await Promise.race([new Promise((resolve) => this.socket.once('drain', resolve)), this.closed]);
  }
}

/** Connects from `source`; undefined when the connection fails (the server may be down). */
export function openPeer(
  target: Target,
  source: string,
  ledger: Ledger | undefined,
  onFrames?: (frames: ServerFrame[]) => void,
): Promise<Peer | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: target.host, port: target.port, localAddress: source });
    ledger?.watch(socket);
    socket.on('error', () => undefined);
    const failed = () => resolve(undefined);
    socket.once('close', failed);
    socket.once('connect', () => {
      socket.off('close', failed);
      resolve(new Peer(socket, onFrames));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Honest users, and the books of what was sent.

type SentState = 'sent' | 'delivered' | 'stored' | 'refused' | 'maybe';

/** What one sender sent: each direct message by its sequence number. */
export interface Book {
  readonly sent: Map<bigint, { readonly to: bigint; state: SentState }>;
}

/** Every sender's book, by user id: a recipient looks up what it is delivered. */
export type Books = Map<bigint, Book>;

/** The text of a tracked direct message: sender and sequence number, then padding. */
const trackedText = (from: bigint, seq: bigint, padding = '') => `h ${from} ${seq}${padding}`;
const TRACKED = /^h (\d+) (\d+)(?: .*)?$/;

export interface HonestOptions {
  readonly target: Target;
  readonly books: Books;
  readonly report: Report;
  /** The server may die: reconnect and resume instead of failing. */
  readonly crashes: boolean;
  readonly source?: string;
}

interface Outstanding {
  readonly seq: bigint;
  readonly dm: boolean;
  readonly text: string;
}

/**
 * A user who behaves: says hello, sends direct messages to its partner and plain echoes at a
 * steady pace under the server's rate limit, acknowledges what it is delivered, and checks as
 * it goes that echoes come back in order, that delivery numbers have no gap, that a number seen
 * again is the same message marked redelivered, and that each sender's messages arrive in order
 * and once. After a crash it resumes with hello{id, secret}.
 */
export class HonestUser {
  id: bigint | undefined;
  secret: Buffer | undefined;
  partner: HonestUser | undefined;
  peer: Peer | undefined;
  online = false;
  /** Highest delivery number handled, across connections. */
  lastHandled = 0n;
  readonly texts = new Map<bigint, string>();
  /** Each sender's sequence numbers, in the order delivered. */
  readonly received = new Map<bigint, bigint[]>();
  readonly figures = {
    sent: 0,
    echoed: 0,
    delivered: 0,
    duplicatesDropped: 0,
    resumes: 0,
    foreign: 0,
    connections: 0,
  };
  /** Deliveries received on this connection, counting duplicates; `pending` from its welcome. */
  deliveriesHere = 0;
  pendingAtWelcome = 0;
  private highestHere = 0n;
  private ackedHere = 0n;
  private outstanding: Outstanding[] = [];
  private nextSeq = 1n;
  private leaving = false;
  private ticker: NodeJS.Timeout | undefined;
  private reconnecting: Promise<void> | undefined;
  private readonly book: Book = { sent: new Map() };

  constructor(
    readonly name: string,
    private readonly options: HonestOptions,
  ) {}

  private fail(message: string): void {
    this.options.report.fail(`honest ${this.name} (user ${this.id ?? '?'}): ${message}`);
  }

  /** Connects and says hello (resuming, once it has an identity); true once welcomed. */
  async join(deadlineMs = 10_000): Promise<boolean> {
    const end = Date.now() + deadlineMs;
    this.leaving = false;
    for (;;) {
      if (await this.connectOnce()) return true;
      if (!this.options.crashes || Date.now() > end) {
        this.fail('could not connect and be welcomed');
        return false;
      }
      await delay(50);
    }
  }

  private async connectOnce(): Promise<boolean> {
    const source = this.options.source ?? SOURCES.honest;
    const peer = await openPeer(this.options.target, source, undefined, (frames) =>
      this.onFrames(peer, frames),
    );
    if (!peer) return false;
    this.peer = peer;
    this.figures.connections++;
    this.highestHere = 0n;
    this.ackedHere = 0n;
    this.deliveriesHere = 0;
    const handshake = await peer.handshaken();
    if (handshake === 'refused') {
      if (!this.options.crashes) this.fail('refused at its handshake');
      peer.socket.destroy();
      return false;
    }
    if (handshake === undefined) {
      peer.socket.destroy();
      return false;
    }
    peer.write(encode(this.id === undefined ? hello() : hello(this.id, this.secret)));
    await waitUntil(() => this.online || peer.isClosed, 10_000);
    if (!this.online) {
      peer.socket.destroy();
      return false;
    }
    void peer.closed.then(() => this.onClosed(peer));
    return true;
  }

  private onClosed(peer: Peer): void {
    if (this.peer !== peer) return;
    this.online = false;
    if (peer.undecodable !== undefined)
      this.fail(`the server sent bytes that are not frames: ${peer.undecodable}`);
    for (const lost of this.outstanding) {
      const entry = this.book.sent.get(lost.seq);
      if (lost.dm && entry) entry.state = 'maybe';
    }
    this.outstanding = [];
    if (this.leaving) return;
    if (!this.options.crashes) {
      this.fail('its connection was closed by the server');
      return;
    }
    this.reconnecting = this.join(30_000).then(
      () => {
        this.figures.resumes++;
        this.reconnecting = undefined;
      },
      () => undefined,
    );
  }

  private onFrames(peer: Peer | undefined, frames: ServerFrame[]): void {
    if (!peer) return;
    const handshake = peer.handshake;
    for (const frame of frames) {
      if (!('chat' in frame)) continue;
      const message = frame.chat;
      if (message.notice) this.onNotice(handshake, message);
      else if (message.delivery && !message.delivery.isZero()) this.onDelivery(message);
      else if (this.id !== undefined && big(message.from) === this.id) this.onEcho(message);
      else if (big(message.from) !== 0n) {
        this.fail(`a message with no delivery number from ${big(message.from)}: "${message.msg}"`);
      }
    }
    if (this.online && this.highestHere > this.ackedHere) {
      this.ackedHere = this.highestHere;
      peer.write(encode(ack(this.highestHere)));
    }
  }

  private onNotice(handshake: Peer['handshake'], message: ChatMessage): void {
    const notice = message.notice ?? {};
    const kind = NoticeKind[notice.kind ?? 0];
    const code = NoticeCode[notice.code ?? 0];
    if (kind === 'WELCOME' && typeof handshake === 'object') {
      if (code === 'NEW_USER') {
        this.id = handshake.id;
        this.secret = handshake.secret;
        this.options.books.set(this.id, this.book);
      } else if (big(notice.id) !== this.id) {
        this.fail(`resumed as ${big(notice.id)}`);
      }
      this.pendingAtWelcome = Number(big(notice.pending));
      this.online = true;
      return;
    }
    this.fail(`unexpected notice ${kind} ${code}: ${notice.text ?? ''}`);
  }

  private onEcho(message: ChatMessage): void {
    const head = this.outstanding.shift();
    if (!head) {
      this.fail(`an echo of nothing outstanding: "${message.msg}"`);
      return;
    }
    if (head.text !== message.msg) {
      this.fail(`echo out of order: "${message.msg}" where "${head.text}" was next`);
      return;
    }
    this.figures.echoed++;
    if (!head.dm) {
      if (message.receipt) this.fail(`a receipt on the echo of a plain message`);
      return;
    }
    const entry = this.book.sent.get(head.seq);
    const status = ReceiptStatus[message.receipt?.status ?? 0];
    if (!entry) return;
    if (status === 'DELIVERED' && !message.receipt?.reason) entry.state = 'delivered';
    else if (status === 'STORED') entry.state = 'stored';
    else {
      entry.state = 'refused';
      this.fail(`direct message ${head.seq} not kept: ${status} ${message.receipt?.reason ?? ''}`);
    }
  }

  private onDelivery(message: ChatMessage): void {
    const number = big(message.delivery);
    this.deliveriesHere++;
    if (number > this.highestHere) this.highestHere = number;
    if (number <= this.lastHandled) {
      this.figures.duplicatesDropped++;
      if (this.texts.get(number) !== message.msg) {
        this.fail(`delivery ${number} again as "${message.msg}", was "${this.texts.get(number)}"`);
      }
      if (!message.redelivered) this.fail(`delivery ${number} again, not marked redelivered`);
      return;
    }
    if (number !== this.lastHandled + 1n) {
      this.fail(
        `delivery ${number} after ${this.lastHandled}: ${number - this.lastHandled - 1n} missing`,
      );
    }
    this.lastHandled = number;
    this.texts.set(number, message.msg);
    this.figures.delivered++;
    const from = big(message.from);
    const tracked = TRACKED.exec(message.msg);
    if (!tracked || BigInt(tracked[1] ?? -1) !== from) {
      this.figures.foreign++;
      return;
    }
    const seq = BigInt(tracked[2] ?? 0);
    const seqs = this.received.get(from) ?? [];
    const previous = seqs.at(-1);
    if (previous !== undefined && seq <= previous) {
      this.fail(`message ${seq} of ${from} after its message ${previous}: twice, or out of order`);
    }
    seqs.push(seq);
    this.received.set(from, seqs);
    const sent = this.options.books.get(from)?.sent.get(seq);
    if (!sent) this.fail(`delivered message ${seq} of ${from}, which it never sent`);
    else if (sent.to !== this.id)
      this.fail(`delivered message ${seq} of ${from}, sent to ${sent.to}`);
    else if (sent.state === 'refused') this.fail(`delivered message ${seq} of ${from}, refused`);
  }

  /** Sends direct messages and echoes, a few every 25 ms, while online: about 120 a second. */
  startChatting(): void {
    this.ticker = setInterval(() => this.tick(), 25);
  }

  private tick(): void {
    const to = this.partner?.id;
    if (!this.online || !this.peer || to === undefined || this.id === undefined) return;
    if (this.outstanding.length > 60) return;
    const messages: ChatMessage[] = [];
    for (const dm of [true, true, false]) {
      const seq = this.nextSeq++;
      const text = dm ? trackedText(this.id, seq) : `echo ${this.id} ${seq}`;
      if (dm) this.book.sent.set(seq, { to, state: 'sent' });
      this.outstanding.push({ seq, dm, text });
      messages.push(chat(dm ? to : 0, text));
      this.figures.sent++;
    }
    this.peer.write(encode(...messages));
  }

  /** Stops sending and waits for every echo outstanding. */
  async stopChatting(ms = 15_000): Promise<void> {
    clearInterval(this.ticker);
    this.ticker = undefined;
    if (!(await waitUntil(() => this.outstanding.length === 0 && !this.reconnecting, ms))) {
      this.fail(`${this.outstanding.length} echoes never came`);
    }
  }

  /** Closes its connection on purpose, and waits until it is closed. */
  async leave(): Promise<void> {
    this.leaving = true;
    await this.reconnecting;
    const peer = this.peer;
    if (!peer) return;
    await waitUntil(() => this.outstanding.length === 0, 5000);
    peer.socket.end();
    if (!(await within(peer.closed, 5000))) peer.socket.destroy();
    await peer.closed;
    this.online = false;
  }

  /** Stops everything at once, for a test that ends early: no more sending, reconnecting, socket. */
  dispose(): void {
    clearInterval(this.ticker);
    this.ticker = undefined;
    this.leaving = true;
    this.peer?.socket.destroy();
  }

  /** The sequence numbers of what it sent `to`, by what its receipts said. */
  sentTo(to: bigint): { kept: bigint[]; maybe: bigint[] } {
    const kept: bigint[] = [];
    const maybe: bigint[] = [];
    for (const [seq, entry] of this.book.sent) {
      if (entry.to !== to) continue;
      if (entry.state === 'delivered' || entry.state === 'stored') kept.push(seq);
      else if (entry.state === 'maybe' || entry.state === 'sent') maybe.push(seq);
    }
    return { kept, maybe };
  }
}

/**
 * Exactly once: every message of `sender` to `recipient` whose receipt said it was kept arrived
 * once (the order and the once are checked as they arrive), and nothing arrived that was not
 * sent or might not have been stored.
 */
export function checkExactlyOnce(
  report: Report,
  senderId: bigint,
  sent: { kept: readonly bigint[]; maybe: readonly bigint[] },
  recipient: HonestUser,
  label: string,
): boolean {
  const arrived = new Set(recipient.received.get(senderId) ?? []);
  const missing = sent.kept.filter((seq) => !arrived.has(seq));
  const none = report.check(
    missing.length === 0,
    'every message whose receipt was sent arrives exactly once, in order',
    `${label}: ${missing.length} of ${sent.kept.length} never arrived (first ${missing.slice(0, 5).join(', ')})`,
  );
  const allowed = new Set([...sent.kept, ...sent.maybe]);
  const extra = [...arrived].filter((seq) => !allowed.has(seq));
  return (
    report.check(
      extra.length === 0,
      'nothing arrives that was refused or never sent',
      `${label}: ${extra.length} arrived that were not kept (first ${extra.slice(0, 5).join(', ')})`,
    ) && none
  );
}

// ---------------------------------------------------------------------------------------------
// The attackers. Each takes the environment and a report, runs until `until()` is true (or its
// count is done), and leaves nothing open.

/** A varint, for hand-made frames. */
function varint(value: number): number[] {
  const bytes: number[] = [];
  for (; value >= 0x80; value = Math.floor(value / 0x80)) bytes.push((value % 0x80) | 0x80);
  return [...bytes, value];
}

const frameOf = (body: readonly number[]) => Buffer.from([...varint(body.length), ...body]);

/** Frames no reader may accept, each alone. */
const BAD_FRAMES: readonly Buffer[] = [
  frameOf([0x1a, 5, 0x68, 0x69]), // a string running past its frame
  frameOf([0x1a, 1, 0xff]), // not UTF-8
  frameOf([0x1a, 3, 0xed, 0xa0, 0x80]), // a UTF-8 surrogate
  frameOf([0x08, 0x80]), // a varint cut off
  frameOf([0x00, 0x01]), // field number 0
  frameOf([0x0e, 0x01]), // wire type 6
  frameOf([0x64]), // an end group with no start
  frameOf(Array<number>(200).fill(0x63)), // groups nested deep, never ended
  frameOf([0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f]), // a hello of 4 GiB in a frame of 6 bytes
  Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), // 11-byte prefix
  Buffer.from([0xff, 0xff, 0xff, 0xff, 0x07]), // a frame of 2 GiB announced
  Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), // 2^64 - 1 bytes
];

/** Garbage of one of several kinds: random, nearly valid, known bad. */
function garbage(): { kind: string; bytes: Buffer } {
  switch (randomInt(5)) {
    case 0:
      return { kind: 'random bytes', bytes: randomBytes(randomInt(1, 4096)) };
    case 1: {
      // Small prefixes: many short frames of random bodies.
      const bytes = randomBytes(randomInt(1, 512));
      for (let i = 0; i < bytes.length; i += randomInt(1, 12)) bytes[i] = randomInt(0, 12);
      return { kind: 'short random frames', bytes };
    }
    case 2: {
      const valid = encode(
        ...Array.from({ length: randomInt(1, 6) }, () => chat(0, randomBytes(8).toString('hex'))),
      );
      for (let flips = randomInt(1, 4); flips > 0; flips--) {
        const at = randomInt(valid.length);
        valid[at] = (valid[at] as number) ^ (1 << randomInt(8));
      }
      return { kind: 'valid frames with bits flipped', bytes: valid };
    }
    case 3: {
      const bad = BAD_FRAMES[randomInt(BAD_FRAMES.length)] as Buffer;
      return { kind: 'known bad frames', bytes: Buffer.concat([encode(chat(0, 'ok')), bad]) };
    }
    default:
      return {
        kind: 'a huge length prefix',
        bytes: Buffer.concat([Buffer.from(varint(2 ** 31 + randomInt(1000))), randomBytes(100)]),
      };
  }
}

/** Runs `count` tasks, `parallel` at a time, while `until()` is false. */
async function pool(
  count: number,
  parallel: number,
  until: () => boolean,
  task: (i: number) => Promise<void>,
) {
  let next = 0;
  const worker = async () => {
    while (next < count && !until()) await task(next++);
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/** Random garbage: each client sends bytes that are not the protocol, then ends its side. */
export async function garbageClients(
  env: AttackEnv,
  report: Report,
  count: number,
  until: () => boolean,
) {
  await report.timed(() =>
    pool(count, 8, until, async () => {
      const epoch = env.target.epoch;
      const peer = await openPeer(env.target, SOURCES.garbage, env.ledger);
      report.tried++;
      if (!peer) {
        report.count('connections failed (server down)');
        return;
      }
      if (randomInt(2) === 0) await peer.handshaken(2000);
      if (randomInt(3) === 0) peer.write(encode(hello()));
      const { kind, bytes } = garbage();
      report.count(`bad inputs: ${kind}`);
      report.count('bad bytes', bytes.length);
      for (let at = 0; at < bytes.length;) {
        const size = randomInt(1, bytes.length - at + 1);
        peer.write(bytes.subarray(at, at + size));
        at += size;
      }
      peer.socket.end();
      const closed = await within(peer.closed, 5000);
      if (!closed) peer.socket.destroy();
      if (epoch === env.target.epoch) {
        report.check(closed, 'the server closes a garbage connection once its client ends', kind);
        report.check(
          peer.undecodable === undefined,
          'the server answers garbage only with valid frames',
          peer.undecodable,
        );
      }
    }),
  );
}

/** Clients that reset their connection (RST) in the middle of a frame, in several ways. */
export async function resettingClients(
  env: AttackEnv,
  report: Report,
  count: number,
  until: () => boolean,
) {
  const ways: readonly ((peer: Peer) => Promise<string>)[] = [
    async (peer) => {
      await peer.handshaken(2000);
      peer.write(encode(hello(), chat(0, 'one'), chat(0, 'two')));
      const frame = encode(chat(0, 'x'.repeat(200)));
      peer.write(frame.subarray(0, randomInt(2, frame.length - 1)));
      return 'in the body of a frame';
    },
    (peer) => {
      peer.write(Buffer.from([0xff, 0xff]));
      return Promise.resolve('in a length prefix, before the handshake is read');
    },
    async (peer) => {
      await peer.handshaken(2000);
      const echoes = Array.from({ length: 500 }, (_, i) => chat(0, `echo me ${i}`));
      const frame = encode(chat(0, 'unfinished'));
      peer.write(Buffer.concat([encode(...echoes), frame.subarray(0, 3)]));
      return 'while the server writes 500 echoes';
    },
    async (peer) => {
      await peer.handshaken(2000);
      peer.write(encode(hello(), chat(123_456_789, 'to nobody')));
      peer.write(Buffer.from([0x85]));
      await delay(randomInt(50));
      return 'after a direct message, in a prefix';
    },
  ];
  await report.timed(() =>
    pool(count, 6, until, async (i) => {
      const peer = await openPeer(env.target, SOURCES.resets, env.ledger);
      report.tried++;
      if (!peer) {
        report.count('connections failed (server down)');
        return;
      }
      const way = ways[i % ways.length] as (peer: Peer) => Promise<string>;
      report.count(`resets: ${await way(peer)}`);
      peer.socket.resetAndDestroy();
      await peer.closed;
    }),
  );
}

/** Connections opened and closed as fast as the server takes them, in every way a client can leave. */
export async function connectionStorm(
  env: AttackEnv,
  report: Report,
  count: number,
  until: () => boolean,
) {
  await report.timed(() =>
    pool(count, 24, until, async (i) => {
      const peer = await openPeer(env.target, SOURCES.storm, env.ledger);
      report.tried++;
      if (!peer) {
        report.count('connections failed (server down)');
        return;
      }
      switch (i % 5) {
        case 0:
          peer.socket.destroy();
          break;
        case 1:
          peer.socket.resetAndDestroy();
          break;
        case 2:
          if ((await peer.handshaken(2000)) === 'refused') report.count('refused');
          peer.socket.end();
          break;
        case 3:
          await peer.handshaken(2000);
          peer.write(encode(hello()));
          peer.socket.resetAndDestroy();
          break;
        default:
          peer.socket.end();
      }
      if (!(await within(peer.closed, 5000))) {
        peer.socket.destroy();
        report.fail('a storm connection was not closed within 5 s of its end');
      }
      report.count('connections');
    }),
  );
}

/**
 * Slowloris: clients that begin a frame and never finish it, or finish it a byte at a time too
 * slowly; the frame timeout must close each, no sooner than it and not much later. Beside them,
 * clients that are quiet between whole frames, which no frame timeout may close.
 */
export async function slowloris(env: AttackEnv, report: Report, count: number) {
  const timeoutMs = env.limits.frameTimeoutSec * 1000;
  const ways: readonly [string, (peer: Peer) => Promise<void>][] = [
    [
      'half a frame, then nothing',
      (peer) => {
        peer.write(Buffer.from([100, 0x1a, 20, 0x61]));
        return Promise.resolve();
      },
    ],
    [
      'part of a length prefix, then nothing',
      (peer) => {
        peer.write(Buffer.from([0x85]));
        return Promise.resolve();
      },
    ],
    [
      'a frame a byte every 300 ms',
      async (peer) => {
        const frame = encode(chat(0, 'slow'.repeat(10)));
        for (const byte of frame) {
          if (peer.isClosed) return;
          peer.write(Buffer.of(byte));
          await delay(300);
        }
      },
    ],
  ];
  await report.timed(async () => {
    const epoch = env.target.epoch;
    const attacks = Array.from({ length: count }, async (_, i) => {
      const peer = await openPeer(env.target, SOURCES.slowloris, env.ledger);
      report.tried++;
      if (!peer) {
        report.count('connections failed (server down)');
        return;
      }
      if ((await peer.handshaken(3000)) === undefined) {
        peer.socket.destroy();
        return;
      }
      peer.write(encode(hello()));
      await delay(100);
      const [way, begin] = ways[i % ways.length] as (typeof ways)[number];
      const began = Date.now();
      const trickle = begin(peer);
      const closed = await within(peer.closed, timeoutMs + 3000);
      await trickle;
      const ms = (peer.closedAt ?? Date.now()) - began;
      if (!closed) peer.socket.destroy();
      report.count(`slowloris: ${way}`);
      if (epoch !== env.target.epoch) return;
      report.max('slowest close (ms)', ms);
      report.check(
        closed && ms >= timeoutMs - 50,
        `the frame timeout closes a client that sends ${way}, after ${env.limits.frameTimeoutSec} s`,
        closed ? `closed after ${ms} ms` : `still open after ${ms} ms`,
      );
    });
    const quiet = Array.from({ length: Math.max(2, Math.floor(count / 4)) }, async () => {
      const peer = await openPeer(env.target, SOURCES.slowloris, env.ledger);
      if (!peer) return;
      report.count('quiet clients (whole frames only)');
      if ((await peer.handshaken(3000)) === undefined) {
        peer.socket.destroy();
        return;
      }
      peer.write(encode(hello(), chat(0, 'then quiet')));
      const closed = await within(peer.closed, timeoutMs + 2000);
      if (epoch === env.target.epoch) {
        report.check(
          !closed,
          'a client quiet between whole frames stays connected (no idle timeout)',
        );
      }
      peer.socket.end();
      await within(peer.closed, 5000);
      peer.socket.destroy();
    });
    await Promise.all([...attacks, ...quiet]);
  });
}

/**
 * A flood from one address: more connections at once than the limit per address, each accepted
 * one sending echo messages as fast as the server reads them. Exactly the limit are accepted,
 * the rest refused with the refused handshake; the rate limit slows each accepted one down
 * instead of closing it. Twice, to see the slots given back.
 */
export async function addressFlood(
  env: AttackEnv,
  report: Report,
  connections: number,
  floodMs: number,
  waves = 2,
) {
  const { perIp, rate, burst } = env.limits;
  const batch = encode(...Array.from({ length: 50 }, () => chat(0, 'f'.repeat(100))));
  await report.timed(async () => {
    for (let wave = 0; wave < waves; wave++) {
      const epoch = env.target.epoch;
      const opened = (
        await Promise.all(
          Array.from({ length: connections }, () =>
            openPeer(env.target, SOURCES.flood, env.ledger),
          ),
        )
      ).filter((peer): peer is Peer => peer !== undefined);
      report.tried += connections;
      await Promise.all(opened.map((peer) => peer.handshaken(5000)));
      const accepted = opened.filter((peer) => typeof peer.handshake === 'object');
      const refused = opened.filter((peer) => peer.handshake === 'refused');
      report.count('accepted', accepted.length);
      report.count('refused', refused.length);
      if (epoch === env.target.epoch) {
        report.check(
          accepted.length === Math.min(perIp, connections) &&
            refused.length === opened.length - accepted.length,
          `exactly ${perIp} connections from one address are accepted, the others refused`,
          `wave ${wave + 1}: ${accepted.length} accepted, ${refused.length} refused of ${opened.length}`,
        );
        const refusedClosed = await within(Promise.all(refused.map((peer) => peer.closed)), 5000);
        report.check(refusedClosed, 'the server closes each refused connection');
      }
      const started = Date.now();
      let sent = 0;
      const floods = accepted.map(async (peer) => {
        peer.write(encode(hello()));
        let mine = 0;
        while (Date.now() - started < floodMs && !peer.isClosed) {
          if (mine - peer.frames < 2000) {
            peer.write(batch);
            mine += 50;
            await peer.drained();
          } else {
            await delay(5);
          }
        }
        sent += mine;
        return peer;
      });
      await Promise.all(floods);
      const seconds = (Date.now() - started) / 1000;
      const echoes = accepted.map((peer) => peer.frames);
      report.count('messages sent', sent);
      report.count(
        'echoes and notices received',
        echoes.reduce((a, b) => a + b, 0),
      );
      if (epoch === env.target.epoch && rate > 0) {
        // A chunk read is answered whole before the bucket pauses its sender: one 64 KiB
        // chunk of these frames is about 620 messages past the bucket.
        const bound = burst + rate * (seconds + 0.5) + 700;
        const most = Math.max(0, ...echoes);
        report.max('most echoes one flooder got in its flood', most);
        report.check(
          most <= bound,
          `the rate limit holds each flooder to ${rate} messages a second after a burst of ${burst}`,
          `${most} echoes in ${seconds.toFixed(1)} s, bound ${Math.round(bound)}`,
        );
      }
      const cutOff = accepted.filter((peer) => peer.isClosed);
      for (const peer of opened) peer.socket.end();
      await within(Promise.all(opened.map((peer) => peer.closed)), 10_000);
      for (const peer of opened) peer.socket.destroy();
      await env.gone(opened.map((peer) => peer.endpoint));
      if (epoch === env.target.epoch && rate > 0) {
        const reasons = disconnectReasons(
          env.log(),
          cutOff.map((peer) => peer.endpoint),
        );
        report.check(
          cutOff.length === 0,
          'a flooder over its rate is slowed down, not disconnected',
          `wave ${wave + 1}: ${cutOff.length} of ${accepted.length} flooders were disconnected during the flood: ${describeReasons(reasons)}`,
        );
      }
    }
  });
}

/**
 * A flood of direct messages to one offline user, from several connections at once, as fast as
 * the server reads them: the mailbox fills to --max-pending and the rest is refused
 * (MAILBOX_FULL); the sender learns each outcome. The victim's book is checked when it comes
 * back (checkExactlyOnce).
 */
export class MailboxFlood {
  /** Each flooder's id and book. */
  readonly flooders: { readonly id: bigint; readonly book: Book }[] = [];

  constructor(
    private readonly env: AttackEnv,
    private readonly report: Report,
    private readonly books: Books,
  ) {}

  /** What every flooder sent `victim`, by what its receipts said. */
  sentTo(victim: bigint): { id: bigint; kept: bigint[]; maybe: bigint[] }[] {
    return this.flooders.map(({ id, book }) => {
      const kept: bigint[] = [];
      const maybe: bigint[] = [];
      for (const [seq, entry] of book.sent) {
        if (entry.to !== victim) continue;
        if (entry.state === 'stored' || entry.state === 'delivered') kept.push(seq);
        else if (entry.state !== 'refused') maybe.push(seq);
      }
      return { id, kept, maybe };
    });
  }

  async run(victim: bigint, flooders: number, floodMs: number): Promise<void> {
    await this.report.timed(async () => {
      await Promise.all(Array.from({ length: flooders }, () => this.flood(victim, floodMs)));
    });
  }

  private async flood(victim: bigint, floodMs: number): Promise<void> {
    const outstanding: bigint[] = [];
    const report = this.report;
    const mine: { id?: bigint; book?: Book } = {};
    let rateLimited = 0;
    const peer = await openPeer(this.env.target, SOURCES.mailbox, this.env.ledger, (frames) => {
      for (const frame of frames) {
        if (!('chat' in frame)) continue;
        const { notice, receipt, msg } = frame.chat;
        if (notice) {
          const code = NoticeCode[notice.code ?? 0];
          if (code === 'RATE_LIMITED') rateLimited++;
          else if (code !== 'NEW_USER') report.fail(`a mailbox flooder got the notice ${code}`);
          continue;
        }
        const seq = outstanding.shift();
        const entry = seq === undefined ? undefined : mine.book?.sent.get(seq);
        if (!entry || msg !== trackedText(mine.id ?? 0n, seq ?? 0n, PADDING)) {
          report.fail(`a mailbox flooder's echo out of order: "${msg}"`);
          continue;
        }
        const status = ReceiptStatus[receipt?.status ?? 0];
        report.count(`receipts ${status}`);
        entry.state = status === 'STORED' ? 'stored' : status === 'REFUSED' ? 'refused' : 'maybe';
        if (status === 'REFUSED' && !/too many messages are waiting/.test(receipt?.reason ?? '')) {
          report.fail(`a flood message refused for another reason: ${receipt?.reason ?? ''}`);
        }
      }
    });
    const epoch = this.env.target.epoch;
    this.report.tried++;
    if (!peer) {
      this.report.count('connections failed (server down)');
      return;
    }
    const handshake = await peer.handshaken(5000);
    if (typeof handshake !== 'object') {
      peer.socket.destroy();
      return;
    }
    const id = handshake.id;
    const book: Book = { sent: new Map() };
    mine.id = id;
    mine.book = book;
    this.books.set(id, book);
    this.flooders.push({ id, book });
    peer.write(encode(hello()));
    const started = Date.now();
    let seq = 1n;
    while (Date.now() - started < floodMs && !peer.isClosed) {
      if (outstanding.length > 2000) {
        await delay(5);
        continue;
      }
      const messages: ChatMessage[] = [];
      for (let i = 0; i < 100; i++, seq++) {
        messages.push(chat(victim, trackedText(id, seq, PADDING)));
        book.sent.set(seq, { to: victim, state: 'sent' });
        outstanding.push(seq);
      }
      this.report.count('direct messages sent', messages.length);
      peer.write(encode(...messages));
      await peer.drained();
    }
    await waitUntil(() => outstanding.length === 0 || peer.isClosed, 15_000);
    if (!this.env.crashes || epoch === this.env.target.epoch) {
      this.report.check(
        !peer.isClosed,
        'a mailbox flooder over its rate is slowed down, not disconnected',
        describeReasons(disconnectReasons(this.env.log(), [peer.endpoint])),
      );
      if (!peer.isClosed) {
        this.report.check(
          outstanding.length === 0,
          'every flood message gets its receipt',
          `${outstanding.length} never answered`,
        );
      }
    }
    for (const seq of outstanding) {
      const entry = book.sent.get(seq);
      if (entry) entry.state = 'maybe';
    }
    this.report.count('RATE_LIMITED notices', rateLimited);
    peer.socket.end();
    if (!(await within(peer.closed, 5000))) peer.socket.destroy();
  }
}

const PADDING = ` ${'m'.repeat(40)}`;

// ---------------------------------------------------------------------------------------------
// The table of a run.

const cell = (text: string) => text.replace(/\|/g, '\\|');

/** A markdown table of the reports: what was tried, how much, how long, what held, the figures. */
export function markdownTable(reports: readonly Report[]): string {
  const rows = reports.map((report) => {
    const figures = [...report.figures]
      .map(([name, value]) => `${name}: ${Number.isInteger(value) ? value : value.toFixed(1)}`)
      .join('; ');
    const held =
      report.failures.length > 0
        ? `**FAILED**: ${report.failures.slice(0, 3).join('; ')}`
        : [...report.held].join('; ') || '—';
    const interrupted =
      report.interrupted > 0 ? ` (${report.interrupted} rounds cut by a kill)` : '';
    return [
      report.name,
      report.what,
      `${report.tried} ${report.unit}${interrupted}`,
      `${report.seconds.toFixed(1)} s`,
      held,
      figures || '—',
    ];
  });
  const header = ['attack', 'what was tried', 'how much', 'how long', 'what held', 'figures'];
  return [header, header.map(() => '---'), ...rows]
    .map((row) => `| ${row.map(cell).join(' | ')} |`)
    .join('\n');
}
