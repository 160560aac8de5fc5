import { expect } from 'chai';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunningProgram, startServer, stopAll } from '../support/programs';

// Debian's packages, by path: a python3 first on PATH (pyenv, a venv) may lack google.protobuf.
const PROTOC = '/usr/bin/protoc';
const PYTHON = '/usr/bin/python3';
const PROTO_DIR = join(__dirname, '..', '..', 'proto');
const CLIENT_SCRIPT = join(__dirname, 'chat_client.py');
const SERVER = 'cli/server.js';
/** Every test starts a server of its own, whose users start at 1 and are forgotten when it stops. */
const IN_MEMORY = ['--db', ':memory:'];

type PlainChat = { readonly from: string; readonly to: string; readonly msg: string };
type Mode = 'echo' | 'refused' | 'direct' | 'offline' | 'wrong-secret';
type Server = Awaited<ReturnType<typeof startServer>>;

type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

/** Text for people (a notice's `text`, a receipt's `reason`), checked only to be one line. */
const TEXT = '<one line of text>';

/** The report with each text for people that is one line, not empty, replaced by TEXT. */
function withTextsForPeople(value: Json, key?: string): Json {
  if ((key === 'text' || key === 'reason') && typeof value === 'string' && /^.+$/.test(value)) {
    return TEXT;
  }
  if (Array.isArray(value)) return value.map((item: Json) => withTextsForPeople(item));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([field, item]) => [field, withTextsForPeople(item, field)]),
    );
  }
  return value;
}

/**
 * What chat_client.py reports of a frame: the fields set, ids as decimal strings, enums by name.
 * The ids are the users of a server on :memory:, 1, 2, 3, … in the order the clients connect.
 */
const id = (user: number) => String(user);

function handshake(user: number): Json {
  return { handshake: { id: id(user), secret: '16 bytes' } };
}

function notice(to: number, fields: Readonly<Record<string, string>>): Json {
  return { to: id(to), notice: { ...fields, text: TEXT } };
}

function welcome(user: number, code: 'NEW_USER' | 'RESUMED', pending = 0): Json {
  const waiting = pending === 0 ? {} : { pending: String(pending) };
  return notice(user, { kind: 'WELCOME', code, id: id(user), ...waiting });
}

const errorNotice = (to: number, code: string) => notice(to, { kind: 'ERROR', code });
const closingNotice = (to: number, code: string) => notice(to, { kind: 'CLOSING', code });

/** The echo of an ordinary message: `to` left off when 0. */
function echo(from: number, to: number, msg: string): Json {
  return { from: id(from), ...(to === 0 ? {} : { to: id(to) }), msg };
}

/** The echo of a direct message, with its receipt. */
function receipt(from: number, to: number, msg: string, status: 'DELIVERED' | 'STORED'): Json {
  return { from: id(from), to: id(to), msg, receipt: { status } };
}

function refusedReceipt(from: number, to: number, msg: string, refusal: string): Json {
  return { from: id(from), to: id(to), msg, receipt: { status: 'REFUSED', reason: TEXT, refusal } };
}

function delivery(from: number, to: number, msg: string, number: number, redelivered = false) {
  const again = redelivered ? { redelivered: true } : {};
  return { from: id(from), to: id(to), msg, delivery: String(number), ...again };
}

/** Why the test cannot run here, or undefined when protoc and python3-protobuf are both installed. */
function missingPackage(): string | undefined {
  if (!existsSync(PROTOC)) return `protobuf-compiler is not installed (no ${PROTOC})`;
  const probe = spawnSync(PYTHON, ['-c', 'import google.protobuf'], { stdio: 'ignore' });
  if (probe.status !== 0)
    return `python3-protobuf is not installed (${PYTHON} has no google.protobuf)`;
  return undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Answers each `WAIT <n> <text>` the client prints with a line `ok`, once the server's log has n
 * lines that start with that text; until the client exits.
 */
async function answerWaits(client: RunningProgram, server: Server): Promise<void> {
  for (let answered = 0; ; answered += 1) {
    try {
      await client.lineCount('stdout', /^WAIT /, answered + 1);
    } catch {
      return; // the client has exited
    }
    const wait = client.lines.stdout.filter((line) => line.startsWith('WAIT '))[answered] ?? '';
    const [, count = '', text = ''] = /^WAIT (\d+) (.+)$/.exec(wait) ?? [];
    if (text === '')
      throw new Error(`chat_client.py printed a WAIT this test cannot read: ${wait}`);
    await server.lineCount('stderr', new RegExp(`^${escapeRegExp(text)}`), Number(count));
    client.child.stdin?.write('ok\n');
  }
}

describe('interop with a Python client on python3-protobuf', function () {
  this.timeout(20_000);
  let generatedDir: string | undefined;
  const clients = new Set<RunningProgram>();

  before(function () {
    const missing = missingPackage();
    if (missing !== undefined) {
      console.log(`  (skipped: ${missing}; apt-get install protobuf-compiler python3-protobuf)`);
      this.skip();
    }
    generatedDir = mkdtempSync(join(tmpdir(), 'chat-pb2-'));
    execFileSync(PROTOC, [
      `--proto_path=${PROTO_DIR}`,
      `--python_out=${generatedDir}`,
      'chat.proto',
    ]);
  });

  after(() => {
    if (generatedDir !== undefined) rmSync(generatedDir, { recursive: true, force: true });
  });

  afterEach(() => {
    for (const client of clients) client.stop();
    clients.clear();
    stopAll();
  });

  /**
   * Runs chat_client.py to its end and returns the JSON report it prints last. `input` is its
   * whole stdin; without it, stdin stays open for the answers to its WAITs.
   */
  async function runClient(mode: Mode, server: Server, input?: string): Promise<Json> {
    const child = spawn(PYTHON, [CLIENT_SCRIPT, mode, String(server.port)], {
      env: { ...process.env, PYTHONPATH: generatedDir },
    });
    const client = new RunningProgram(child);
    clients.add(client);
    if (input !== undefined) child.stdin.end(input);
    const [{ code }] = await Promise.all([client.exited, answerWaits(client, server)]);
    expect(code, `chat_client.py ${mode} failed: ${client.lines.stderr.join('\n')}`).to.equal(0);
    return JSON.parse(client.lines.stdout.at(-1) ?? '') as Json;
  }

  it('gets back each message it sends, `from` set to its id: int64 extremes, UTF-8, an empty message', async () => {
    const server = await startServer(SERVER, IN_MEMORY);
    const sent: PlainChat[] = [
      { from: '0', to: '9223372036854775807', msg: 'int64 max' },
      { from: '-9223372036854775808', to: '-9223372036854775808', msg: 'int64 min' },
      { from: '7', to: '9007199254740993', msg: 'héllo wörld, 世界, 😀' },
      { from: '0', to: '0', msg: '' }, // every field at its default: a zero-length frame
      { from: '-1', to: '-2', msg: 'a frame over 127 bytes, with a two-byte prefix '.repeat(4) },
    ];
    expect(await runClient('echo', server, JSON.stringify(sent))).to.deep.equal({
      handshake: { id: '1', error: false },
      echoes: sent.map((message) => ({ ...message, from: '1' })),
      problems: [],
    });
  });

  it('is refused with Handshake{error: true} by a server whose one place (--max-clients 1) it already holds', async () => {
    const server = await startServer(SERVER, [...IN_MEMORY, '--max-clients', '1']);
    expect(await runClient('refused', server, '')).to.deep.equal({
      kept: { id: '1', error: false },
      refused: { id: '0', error: true },
      refusalBytes: '021001',
      framesAfterRefusal: 0,
      problems: [],
    });
  });

  it('chats with direct messages between two clients that said hello: receipts, deliveries numbered per recipient, cumulative acks and the errors of wrong ones', async () => {
    const server = await startServer(SERVER, IN_MEMORY);
    const report = withTextsForPeople(await runClient('direct', server));
    const [a, b] = [1, 2];
    const nobody = 9000;
    expect(report).to.deep.equal({
      events: [
        ['A', handshake(a)],
        ['B', handshake(b)],
        ['A', welcome(a, 'NEW_USER')],
        ['B', welcome(b, 'NEW_USER')],
        // One write from A: two messages to B, three to no other user, one to an unknown id.
        ['A', receipt(a, b, 'hello B', 'DELIVERED')],
        ['A', receipt(a, b, 'are you there?', 'DELIVERED')],
        ['A', echo(a, 0, 'to nobody in particular')],
        ['A', echo(a, a, 'to myself')],
        ['A', echo(a, -1, 'to a negative id')],
        ['A', refusedReceipt(a, nobody, 'anyone there?', 'UNKNOWN_RECIPIENT')],
        ['B', delivery(a, b, 'hello B', 1)],
        ['B', delivery(a, b, 'are you there?', 2)],
        // B acks 2 (no answer), then 1, 2 again, 3 (never sent), and says hello again.
        ['B', errorNotice(b, 'ALREADY_ACKNOWLEDGED')],
        ['B', errorNotice(b, 'ALREADY_ACKNOWLEDGED')],
        ['B', errorNotice(b, 'UNKNOWN_DELIVERY')],
        ['B', errorNotice(b, 'HELLO_NOT_FIRST')],
        ['B', receipt(b, a, 'hello A', 'DELIVERED')],
        ['A', delivery(b, a, 'hello A', 1)],
        // A acks 1 (no answer): its next frame is the echo of its next message.
        ['A', echo(a, 0, 'still here')],
      ],
      // The echoes of ordinary messages are the bytes sent (with `from` as the sender's id).
      problems: [],
    });
  });

  it('stores a message for a user who left and delivers it when that user resumes with the secret of its first handshake: WELCOME RESUMED with pending 1, redelivered until acked, taken over by a later connection', async () => {
    const server = await startServer(SERVER, IN_MEMORY);
    const report = withTextsForPeople(await runClient('offline', server));
    // B is user 2; each of its later connections is first the user of its own handshake.
    const [a, b, b2, b3, b4] = [1, 2, 3, 4, 5];
    const away = 'while you were away';
    expect(report).to.deep.equal({
      events: [
        ['A', handshake(a)],
        ['A', welcome(a, 'NEW_USER')],
        ['B', handshake(b)],
        ['B', welcome(b, 'NEW_USER')],
        ['B', 'closed'],
        // Once the server has logged B's disconnection:
        ['A', receipt(a, b, away, 'STORED')],
        ['B2', handshake(b2)],
        ['B2', welcome(b, 'RESUMED', 1)],
        ['B2', delivery(a, b, away, 1)],
        ['B2', 'closed'],
        // B2 left without acking: the delivery comes again. B3 acks it, twice.
        ['B3', handshake(b3)],
        ['B3', welcome(b, 'RESUMED', 1)],
        ['B3', delivery(a, b, away, 1, true)],
        ['B3', errorNotice(b, 'ALREADY_ACKNOWLEDGED')],
        // B4 resumes B while B3 is connected: nothing is pending, and B3 is closed.
        ['B4', handshake(b4)],
        ['B4', welcome(b, 'RESUMED')],
        ['B3', closingNotice(b, 'TAKEN_OVER')],
        ['B3', 'closed'],
        ['A', receipt(a, b, 'welcome back', 'DELIVERED')],
        ['B4', delivery(a, b, 'welcome back', 2)],
        // B4 acks 2 (no answer): its next frame is the echo of its next message.
        ['B4', echo(b, 0, 'bye')],
      ],
      problems: [],
    });
    expect(server.lines.stderr).to.include(
      `user ${b} resumed, on the connection accepted as user ${b2}`,
    );
  });

  it('closes a connection whose hello has a wrong secret (CLOSING WRONG_SECRET) or an unknown id (CLOSING UNKNOWN_USER), and leaves that user alone', async () => {
    const server = await startServer(SERVER, IN_MEMORY);
    const report = withTextsForPeople(await runClient('wrong-secret', server));
    const [b, x, y, z] = [1, 2, 3, 4];
    expect(report).to.deep.equal({
      events: [
        ['B', handshake(b)],
        ['B', welcome(b, 'NEW_USER')],
        // X: B's secret with one bit flipped; Y: no secret; Z: an id never given out.
        ['X', handshake(x)],
        ['X', closingNotice(x, 'WRONG_SECRET')],
        ['X', 'closed'],
        ['Y', handshake(y)],
        ['Y', closingNotice(y, 'WRONG_SECRET')],
        ['Y', 'closed'],
        ['Z', handshake(z)],
        ['Z', closingNotice(z, 'UNKNOWN_USER')],
        ['Z', 'closed'],
        ['B', echo(b, 0, 'still here')],
      ],
      problems: [],
    });
  });
});
