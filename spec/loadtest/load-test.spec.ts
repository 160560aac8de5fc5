import { expect } from 'chai';
import { once } from 'node:events';
import { AddressInfo, createServer, Server, Socket } from 'node:net';
import Long from 'long';
import { filter, firstValueFrom, lastValueFrom, map, share, Subject } from 'rxjs';
import { LoadTestOptions, LoadTestSummary, runLoadTest } from '../../src/loadtest/load-test';
import { chatMessageCodec, serverFrameCodec } from '../../src/protocol/chat-codec';
import { ChatMessage } from '../../src/protocol/messages';
import { chatService } from '../../src/server/chat-service';
import { runServer } from '../../src/server/server';
import { ServerControl } from '../../src/server/server-events';
import { connect, listen } from '../../src/transport/tcp';
import { run } from '../support/programs';

const options: LoadTestOptions = {
  clients: 20,
  messages: 200,
  window: 8,
  size: 16,
  durationMs: 10_000,
  stallMs: 2_000,
  holdMs: 0,
};

function loadTest(
  port: number,
  overrides: Partial<LoadTestOptions> = {},
): Promise<LoadTestSummary> {
  const summary$ = runLoadTest(
    { ...options, ...overrides },
    () => connect('127.0.0.1', port),
    () => performance.now(),
  ).pipe(
    filter((event) => event.type === 'summary'),
    map((event) => event.summary),
  );
  return lastValueFrom(summary$);
}

/** The chat server, in this process, on a free port. */
async function chatServer() {
  const controls = new Subject<ServerControl>();
  const updates = runServer(listen('127.0.0.1', 0), controls, chatService(), {
    maxClients: 1000,
  }).pipe(share());
  const done = lastValueFrom(updates);
  const listening = await firstValueFrom(
    updates.pipe(filter(({ event }) => event.type === 'listening')),
  );
  const port = Number(
    /:(\d+)$/.exec(listening.event.type === 'listening' ? listening.event.address : '')?.[1],
  );
  return { port, stop: () => (controls.next({ type: 'shutdown' }), done) };
}

/** A server that handshakes, then answers each message with what `reply` makes of it. */
async function fakeServer(
  reply: (message: ChatMessage) => ChatMessage | undefined,
): Promise<Server> {
  const server = createServer((socket: Socket) => {
    socket.on('error', () => undefined);
    socket.write(serverFrameCodec().encode([{ handshake: { id: Long.fromInt(1), error: false } }]));
    const decoder = chatMessageCodec().decoder();
    socket.on('data', (chunk) => {
      const replies = decoder.push(chunk).flatMap((message) => reply(message) ?? []);
      if (replies.length > 0) socket.write(chatMessageCodec().encode(replies));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

const portOf = (server: Server) => (server.address() as AddressInfo).port;

describe('runLoadTest', function () {
  this.timeout(20_000);

  it('runs every client against the chat server and finds every echo right', async () => {
    const server = await chatServer();
    const summary = await loadTest(server.port);
    await server.stop();
    expect(summary).to.include({
      connections: 20,
      expectedMessages: 4000,
      echoedMessages: 4000,
      errors: 0,
      timedOut: false,
    });
    expect(summary.latencyMicros.p50).to.be.above(0);
    expect(summary.latencyMicros.max).to.be.at.least(summary.latencyMicros.p99);
  });

  it('counts and describes every echo that is wrong', async () => {
    const liar = await fakeServer((message) => ({ ...message, msg: `${message.msg}!` }));
    const summary = await loadTest(portOf(liar), { clients: 2, messages: 3, size: 4 });
    liar.close();
    expect(summary.errors).to.equal(6);
    expect(summary.firstErrors).to.include(
      'echo 0 is {"from":"1","to":"1","msg":"...0!"}, not "...0"',
    );
  });

  it('ends with an error, not a hang, when the server stops answering', async () => {
    const silent = await fakeServer(() => undefined);
    const failure: unknown = await loadTest(portOf(silent), { clients: 2, stallMs: 200 }).catch(
      (error: unknown) => error,
    );
    silent.close();
    expect(failure)
      .to.be.instanceOf(Error)
      .with.property('message')
      .that.matches(/the server stopped answering/);
  });

  it('reports clients that cannot connect', async () => {
    const closed = createServer().listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = portOf(closed);
    closed.close();
    const summary = await loadTest(port, { clients: 3 });
    expect(summary).to.include({ connections: 0, errors: 3 });
    expect(summary.firstErrors[0]).to.match(/^cannot connect: /);
  });
});

describe('npm run loadtest', function () {
  this.timeout(20_000);

  it('prints one JSON summary with --json and exits 0 when every echo is right', async () => {
    const server = await chatServer();
    const { code, stdout } = await run('cli/loadtest.js', [
      '--port',
      String(server.port),
      '--clients',
      '5',
      '--messages',
      '100',
      '--json',
    ]);
    await server.stop();
    expect(code).to.equal(0);
    expect(stdout).to.have.length(1);
    expect(JSON.parse(stdout[0] ?? '')).to.include({ echoedMessages: 500, errors: 0 });
  });

  it('exits 1 when echoes are wrong, with the summary saying why', async () => {
    const liar = await fakeServer((message) => ({ ...message, to: message.to.add(1) }));
    const { code, stdout } = await run('cli/loadtest.js', [
      '--port',
      String(portOf(liar)),
      '--clients',
      '1',
      '--messages',
      '2',
    ]);
    liar.close();
    expect(code).to.equal(1);
    expect(stdout.join('\n'))
      .to.match(/errors\s+2/)
      .and.match(/echo 0 is/);
  });
});
