import { expect } from 'chai';
import { once } from 'node:events';
import { AddressInfo, createServer, Server, Socket } from 'node:net';
import Long from 'long';
import { filter, lastValueFrom, map } from 'rxjs';
import { LoadTestOptions, LoadTestSummary, runLoadTest } from '../../src/loadtest/load-test';
import { chatMessageCodec, serverFrameCodec } from '../../src/protocol/chat-codec';
import { ChatMessage } from '../../src/protocol/messages';
import { connect } from '../../src/transport/tcp';
import { run, startChatServer, stopAll } from '../support/programs';

const options: LoadTestOptions = {
  mode: 'echo',
  clients: 20,
  messages: 200,
  window: 8,
  size: 16,
  durationMs: 10_000,
  stallMs: 2_000,
  holdMs: 0,
  servers: 1,
};

function loadTest(
  port: number,
  overrides: Partial<LoadTestOptions> = {},
): Promise<LoadTestSummary> {
  return loadTestOn(() => port, overrides);
}

/** A load test whose client for server `server` (0, 1, …) connects to `portOf(server)`. */
function loadTestOn(
  portOf: (server: number) => number,
  overrides: Partial<LoadTestOptions> = {},
): Promise<LoadTestSummary> {
  const summary$ = runLoadTest(
    { ...options, ...overrides },
    (server) => connect('127.0.0.1', portOf(server)),
    () => performance.now(),
  ).pipe(
    filter((event) => event.type === 'summary'),
    map((event) => event.summary),
  );
  return lastValueFrom(summary$);
}

/** A server that handshakes, then answers each message with what `reply` makes of it. */
async function fakeServer(
  reply: (message: ChatMessage) => ChatMessage | undefined,
  accepted: () => void = () => undefined,
): Promise<Server> {
  const server = createServer((socket: Socket) => {
    accepted();
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
  let server: Awaited<ReturnType<typeof startChatServer>>;
  before(async () => (server = await startChatServer()));
  after(stopAll);

  it('runs every client against the chat server and finds every echo right', async () => {
    const summary = await loadTest(server.port);
    expect(summary).to.include({
      connections: 20,
      expectedMessages: 4000,
      echoedMessages: 4000,
      deliveredMessages: 0,
      errors: 0,
      timedOut: false,
    });
    expect(summary.latencyMicros.p50).to.be.above(0);
    expect(summary.latencyMicros.max).to.be.at.least(summary.latencyMicros.p99);
  });

  it('with direct messages, delivers every message of each pair, and counts deliveries a second', async () => {
    const summary = await loadTest(server.port, { mode: 'direct', clients: 10 });
    expect(summary).to.include({
      connections: 10,
      expectedMessages: 2000,
      echoedMessages: 2000,
      deliveredMessages: 2000,
      errors: 0,
      timedOut: false,
    });
    expect(summary.messagesPerSecond).to.be.closeTo(2000 / summary.seconds, 1e-6);
    expect(summary.latencyMicros.p50).to.be.above(0);
  });

  it('offline, stores a burst for users who left and delivers all of it when they resume', async () => {
    const summary = await loadTest(server.port, { mode: 'offline', clients: 10, messages: 300 });
    expect(summary).to.include({
      connections: 10,
      expectedMessages: 1500,
      echoedMessages: 1500,
      deliveredMessages: 1500,
      errors: 0,
      timedOut: false,
    });
    expect(summary.stored?.messages).to.equal(1500);
    expect(summary.resumed?.messages).to.equal(1500);
    expect(summary.stored?.messagesPerSecond).to.be.above(0);
    expect(summary.resumed?.messagesPerSecond).to.be.above(0);
    expect(summary.seconds).to.be.closeTo(
      (summary.stored?.seconds ?? 0) + (summary.resumed?.seconds ?? 0),
      1e-9,
    );
  });

  it('spreads the clients over several servers, client i on server i % n', async () => {
    const accepted = [0, 0];
    const servers = await Promise.all(
      accepted.map((_, at) =>
        fakeServer(
          (message) => message,
          () => (accepted[at] = (accepted[at] ?? 0) + 1),
        ),
      ),
    );
    const summary = await loadTestOn((server) => portOf(servers[server] as Server), {
      clients: 5,
      messages: 3,
      servers: 2,
    });
    servers.forEach((server) => server.close());
    expect(summary).to.include({ connections: 5, echoedMessages: 15, errors: 0 });
    expect(accepted).to.deep.equal([3, 2]);
  });

  it('connects each client to the server its mode puts it on: offline, a user resumes on the other one', async () => {
    const asked: number[] = [];
    const direct = await loadTestOn(
      (at) => {
        asked.push(at);
        return server.port; // one real server plays both: what is checked is where each goes
      },
      { mode: 'direct', clients: 4, messages: 20, servers: 2 },
    );
    expect(direct).to.include({ deliveredMessages: 80, errors: 0 });
    expect(asked).to.deep.equal([0, 1, 0, 1]);

    asked.length = 0;
    const offline = await loadTestOn(
      (at) => {
        asked.push(at);
        return server.port;
      },
      { mode: 'offline', clients: 4, messages: 20, servers: 2 },
    );
    expect(offline).to.include({ deliveredMessages: 40, errors: 0 });
    // Recipients register on 0 and 1, the senders are on 0 and 1, the recipients resume on 1 and 0.
    expect(asked).to.deep.equal([0, 1, 0, 1, 1, 0]);
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
  after(stopAll);

  it('prints one JSON summary with --json and exits 0 when every message is right', async () => {
    const server = await startChatServer();
    const { code, stdout } = await run('cli/loadtest.js', [
      '--port',
      String(server.port),
      '--clients',
      '4',
      '--messages',
      '100',
      '--direct',
      '--offline',
      '--json',
    ]);
    server.stop();
    expect(code).to.equal(0);
    expect(stdout).to.have.length(1);
    const summary = JSON.parse(stdout[0] ?? '') as LoadTestSummary;
    expect(summary).to.include({ deliveredMessages: 200, errors: 0 });
    expect(summary.stored).to.include({ messages: 200 });
  });

  it('with --ports, spreads its clients over those servers, in turn', async () => {
    const accepted = [0, 0];
    const servers = await Promise.all(
      accepted.map((_, at) =>
        fakeServer(
          (message) => message,
          () => (accepted[at] = (accepted[at] ?? 0) + 1),
        ),
      ),
    );
    const { code, stdout } = await run('cli/loadtest.js', [
      '--ports',
      servers.map((server) => portOf(server)).join(','),
      '--port',
      '1',
      '--clients',
      '3',
      '--messages',
      '2',
      '--json',
    ]);
    servers.forEach((server) => server.close());
    expect(code).to.equal(0);
    expect(JSON.parse(stdout[0] ?? '')).to.include({ connections: 3, echoedMessages: 6 });
    expect(accepted).to.deep.equal([2, 1]);
  });

  it('refuses --ports that are not a list of different ports, in one line', async () => {
    for (const [ports, why] of [
      ['8080,x', '"x" is no port from 1 to 65535'],
      ['8080,8080', '8080 is there twice'],
      ['', 'it is empty'],
    ]) {
      const { code, stderr } = await run('cli/loadtest.js', [`--ports=${ports}`]);
      expect(code).to.equal(2);
      expect(stderr).to.have.length(1);
      expect(stderr[0]).to.match(
        /^--ports must be a comma list of different ports, as 8080,8081, /,
      );
      expect(stderr[0]).to.include(`not "${ports}": ${why}; usage: `);
    }
  });

  it('refuses --direct with an odd number of clients, and --offline without --direct', async () => {
    const odd = await run('cli/loadtest.js', ['--clients', '3', '--direct']);
    expect(odd.code).to.equal(2);
    expect(odd.stderr.join('\n')).to.match(/--clients must be even, not 3; usage: /);
    const alone = await run('cli/loadtest.js', ['--offline']);
    expect(alone.code).to.equal(2);
    expect(alone.stderr.join('\n')).to.match(/--offline goes with --direct/);
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
