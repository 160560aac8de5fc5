import { expect } from 'chai';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { chat } from '../support/frames';
import { CHAT_SERVER, run, start, startChatServer, stopAll } from '../support/programs';
import { TestClient } from '../support/tcp-client';

const SERVER = CHAT_SERVER;
const CLIENT = 'cli/client.js';

function residentKilobytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
}

describe('the chat server over TCP', function () {
  this.timeout(20_000);
  afterEach(stopAll);

  it('sends each connection a handshake first, with ids 1, 2, 3 …', async () => {
    const server = await startChatServer();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await TestClient.join(server.port)).id);
    expect(ids).to.deep.equal(['1', '2', '3']);
  });

  it('echoes in order with `from` overwritten, int64 extremes and UTF-8 intact, many frames a chunk', async () => {
    const server = await startChatServer();
    const { client, id } = await TestClient.join(server.port);
    client.send(
      chat('-9223372036854775808', '9223372036854775807', 'héllo 世界 😀'),
      chat(42, '-9223372036854775808', ''),
      chat(0, '9007199254740993', 'two to the 53 plus one'),
    );
    client.socket.write(Buffer.of(0)); // an empty frame: a message with every field at its default
    expect((await client.received(5)).slice(1)).to.deep.equal([
      { from: id, to: '9223372036854775807', msg: 'héllo 世界 😀' },
      { from: id, to: '-9223372036854775808', msg: '' },
      { from: id, to: '9007199254740993', msg: 'two to the 53 plus one' },
      { from: id, to: '0', msg: '' },
    ]);
  });

  it('refuses a connection over --max-clients with an error handshake and closes it', async () => {
    const server = await startChatServer(['--max-clients', '1'], undefined);
    await TestClient.join(server.port);
    const refused = await TestClient.connect(server.port);
    await refused.closed;
    expect(refused.frames).to.deep.equal([{ refused: true }]);
    await server.line('stderr', /refused a connection .*: the server is full \(1 users\)/);
    expect(await server.answer('num_users', /connected/)).to.equal('1 user connected');
  });

  it('counts users right after clean closes, resets mid-frame and half-open closes', async () => {
    const server = await startChatServer();
    const clients = await Promise.all(
      Array.from({ length: 5 }, () => TestClient.join(server.port).then(({ client }) => client)),
    );
    expect(await server.answer('num_users', /connected/)).to.equal('5 users connected');
    const [clean, reset, halfOpen, midFrameEnd] = clients as [
      TestClient,
      TestClient,
      TestClient,
      TestClient,
    ];
    await clean.end();
    reset.socket.write(Buffer.from('0a0801', 'hex')); // a frame announced as 10 bytes, 2 sent
    reset.reset();
    halfOpen.socket.end(); // our side ends; the server ends its side and the connection closes
    midFrameEnd.socket.end(Buffer.from('05aa', 'hex'));
    await server.lineCount('stderr', /disconnected/, 4);
    expect(await server.answer('num_users', /connected/)).to.equal('1 user connected');
    expect(server.lines.stderr.join('\n')).to.match(
      /protocol error from user \d: the stream ended inside a frame/,
    );
  });

  it('closes only the connection that sends an oversized or malformed frame', async () => {
    const server = await startChatServer(['--max-frame-bytes', '1000']);
    const { client: good, id } = await TestClient.join(server.port);
    const oversized = (await TestClient.join(server.port)).client;
    const garbage = (await TestClient.join(server.port)).client;
    oversized.socket.write(Buffer.from('ffffffff0f', 'hex')); // announces 4 GiB
    garbage.socket.write(Buffer.from('03' + '1a05' + '68', 'hex')); // msg runs past its frame
    await Promise.all([oversized.closed, garbage.closed]);
    await server.lineCount('stderr', /protocol error from user/, 2);
    expect(server.lines.stderr.join('\n'))
      .to.include('is over the limit of 1000 bytes')
      .and.include('a field runs past the end of the frame');
    good.send(chat(0, 1, 'unaffected'));
    expect((await good.received(2))[1]).to.deep.equal({ from: id, to: '1', msg: 'unaffected' });
  });

  it('pauses a client that sends without reading, without growing, while others keep talking', async () => {
    const server = await startChatServer();
    const { client: flooder, id: flooderId } = await TestClient.join(server.port);
    flooder.socket.pause();
    const before = residentKilobytes(server.child.pid ?? 0);
    const frame = Buffer.from('0a' + '1a08' + '61'.repeat(8), 'hex'); // 11 bytes: msg "aaaaaaaa"
    const flood = Buffer.alloc(frame.length * 6_000_000, frame); // 66 MB of frames, all at once
    flooder.socket.write(flood);

    const { client: other, id } = await TestClient.join(server.port);
    for (let i = 1; i <= 20; i++) {
      other.send(chat(0, 0, `ping ${i}`));
      expect((await other.received(i + 1))[i]).to.deep.equal({
        from: id,
        to: '0',
        msg: `ping ${i}`,
      });
    }
    // What the server holds shows in what it read: at most what the kernel's buffers let through.
    // Its RSS is only checked against the flood itself, as garbage not yet collected counts in it.
    const grownKilobytes = residentKilobytes(server.child.pid ?? 0) - before;
    expect(grownKilobytes * 1024, 'bytes the server grew by').to.be.below(flood.length);
    expect(flooder.socket.writableLength, 'bytes the server would not take').to.be.above(0);
    const flooderLine = await server.answer('users', new RegExp(`^user ${flooderId} `));
    const readByServer = Number(/, (\d+) messages in/.exec(flooderLine)?.[1]) * frame.length;
    expect(readByServer, 'bytes the server read from the flooder').to.be.below(16 * 1024 * 1024);
  });

  it('answers the operator console, and keeps serving after the console input ends', async () => {
    const server = await startChatServer();
    expect(await server.answer('num_users', /connected/)).to.equal('0 users connected');
    expect(await server.answer('frobnicate', /unknown/)).to.equal(
      'unknown command "frobnicate"; type help for the list of commands',
    );
    const { client, id } = await TestClient.join(server.port);
    expect(await server.answer('users', /^user /)).to.match(
      new RegExp(
        `^user ${id} from 127\\.0\\.0\\.1:\\d+, connected since \\d{4}-.*Z, 0 messages in, 1 out$`,
      ),
    );
    expect(await server.answer('broadcast hello, everyone', /^broadcast/)).to.equal(
      'broadcast to 1 user',
    );
    expect((await client.received(2))[1]).to.deep.equal({
      from: '0',
      to: '0',
      msg: 'hello, everyone',
    });
    expect(await server.answer(`kick ${id}`, /kicking/)).to.equal(`kicking user ${id}`);
    await client.closed;
    expect(await server.answer('stats', /^connections/)).to.equal(
      'connections 1 accepted, 0 refused',
    );
    server.child.stdin?.end();
    const later = await TestClient.join(server.port);
    expect(later.id).to.equal('2');
  });

  for (const [how, stop] of [
    [
      'SIGTERM',
      (server: Awaited<ReturnType<typeof startChatServer>>) => server.child.kill('SIGTERM'),
    ],
    [
      'SIGINT',
      (server: Awaited<ReturnType<typeof startChatServer>>) => server.child.kill('SIGINT'),
    ],
    [
      'quit',
      (server: Awaited<ReturnType<typeof startChatServer>>) => server.child.stdin?.write('quit\n'),
    ],
  ] as const) {
    it(`shuts down gracefully on ${how}: closes every connection and exits 0 within two seconds`, async () => {
      const server = await startChatServer();
      const clients = await Promise.all([
        TestClient.join(server.port),
        TestClient.join(server.port),
      ]);
      const asked = Date.now();
      stop(server);
      await Promise.all(clients.map(({ client }) => client.closed));
      const { code } = await server.exited;
      expect(code).to.equal(0);
      expect(Date.now() - asked).to.be.below(2000);
    });
  }

  it('says in one line that its port is taken, and exits 1', async () => {
    const taken = createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const { port } = taken.address() as { port: number };
    const { code, stderr } = await run(SERVER, ['--port', String(port), '--db', ':memory:']);
    taken.close();
    expect(code).to.equal(1);
    expect(stderr).to.deep.equal([`cannot listen on 127.0.0.1:${port}: address already in use`]);
  });
});

describe('the chat client', function () {
  this.timeout(20_000);
  afterEach(stopAll);

  it('with piped stdin sends each line, prints each echo, and exits 0 once all have arrived', async () => {
    const server = await startChatServer();
    const lines = Array.from({ length: 200 }, (_, i) => `line ${i} ✓`);
    const { code, stdout, stderr } = await run(
      CLIENT,
      ['--port', String(server.port), '--to=-9223372036854775808'],
      `${lines.join('\n')}\n`,
    );
    expect(code).to.equal(0);
    expect(stdout).to.deep.equal(lines);
    expect(stderr).to.deep.equal(['connected as 1']);
  });

  it('stops at a line "end" without sending it', async () => {
    const server = await startChatServer();
    const { code, stdout } = await run(CLIENT, ['--port', String(server.port)], 'a\nend\nb\n');
    expect(code).to.equal(0);
    expect(stdout).to.deep.equal(['a']);
  });

  it('exits 1 when the server refuses it', async () => {
    const server = await startChatServer(['--max-clients', '1']);
    await TestClient.join(server.port);
    const { code, stderr } = await run(CLIENT, ['--port', String(server.port)], 'hi\n');
    expect(code).to.equal(1);
    expect(stderr).to.deep.equal(['server refused the connection']);
  });

  it('exits 1 when it cannot connect, or when the server goes away', async () => {
    const closed = createServer().listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const { port } = closed.address() as { port: number };
    closed.close();
    const refused = await run(CLIENT, ['--port', String(port)]);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.deep.equal([
      `cannot connect to 127.0.0.1:${port}: connection refused`,
    ]);

    const server = await startChatServer();
    const client = start(CLIENT, ['--port', String(server.port)]);
    await client.line('stderr', /connected as/);
    server.child.kill('SIGTERM');
    expect((await client.exited).code).to.equal(1);
    expect(client.lines.stderr).to.deep.equal([
      'connected as 1',
      'the server closed the connection',
    ]);
  });
});
