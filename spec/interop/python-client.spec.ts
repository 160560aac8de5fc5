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

type PlainChat = { readonly from: string; readonly to: string; readonly msg: string };

/** Why the test cannot run here, or undefined when protoc and python3-protobuf are both installed. */
function missingPackage(): string | undefined {
  if (!existsSync(PROTOC)) return `protobuf-compiler is not installed (no ${PROTOC})`;
  const probe = spawnSync(PYTHON, ['-c', 'import google.protobuf'], { stdio: 'ignore' });
  if (probe.status !== 0)
    return `python3-protobuf is not installed (${PYTHON} has no google.protobuf)`;
  return undefined;
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

  /** Runs chat_client.py to its end and returns the JSON report it prints. */
  async function runClient(mode: 'echo' | 'refused', port: number, input = ''): Promise<unknown> {
    const child = spawn(PYTHON, [CLIENT_SCRIPT, mode, String(port)], {
      env: { ...process.env, PYTHONPATH: generatedDir },
    });
    const client = new RunningProgram(child);
    clients.add(client);
    child.stdin.end(input);
    const { code } = await client.exited;
    expect(code, `chat_client.py ${mode} failed: ${client.lines.stderr.join('\n')}`).to.equal(0);
    return JSON.parse(client.lines.stdout.join('\n'));
  }

  it('gets back each message it sends, `from` set to its id: int64 extremes, UTF-8, an empty message', async () => {
    const server = await startServer(SERVER);
    const sent: PlainChat[] = [
      { from: '0', to: '9223372036854775807', msg: 'int64 max' },
      { from: '-9223372036854775808', to: '-9223372036854775808', msg: 'int64 min' },
      { from: '7', to: '9007199254740993', msg: 'héllo wörld, 世界, 😀' },
      { from: '0', to: '0', msg: '' }, // every field at its default: a zero-length frame
      { from: '-1', to: '-2', msg: 'a frame over 127 bytes, with a two-byte prefix '.repeat(4) },
    ];
    expect(await runClient('echo', server.port, JSON.stringify(sent))).to.deep.equal({
      handshake: { id: '1', error: false },
      echoes: sent.map((message) => ({ ...message, from: '1' })),
      problems: [],
    });
  });

  it('is refused with Handshake{error: true} by a server whose one place (--max-clients 1) it already holds', async () => {
    const server = await startServer(SERVER, ['--max-clients', '1']);
    expect(await runClient('refused', server.port)).to.deep.equal({
      kept: { id: '1', error: false },
      refused: { id: '0', error: true },
      framesAfterRefusal: 0,
      problems: [],
    });
  });
});
