import { expect } from 'chai';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { chat } from '../support/frames';
import { program, run, startChatServer, startServer, stopAll } from '../support/programs';
import { LineClient, TestClient } from '../support/tcp-client';
import { chatMessageCodec } from '../../src/protocol/chat-codec';

const A1 = 'exercises/assignment-1';
const A2 = 'exercises/assignment-2';

describe('Assignment 1', function () {
  this.timeout(20_000);
  afterEach(stopAll);

  describe('ex1: receive one message', () => {
    it('prints the line a client sends, sends it back, and exits 0', async () => {
      const server = await startServer(`${A1}/ex1-receive-one-message.js`);
      const client = await LineClient.connect(server.port);
      client.socket.write('hello, world\r\n');
      expect(await client.received(1)).to.deep.equal(['hello, world']);
      expect((await server.exited).code).to.equal(0);
      expect(server.lines.stdout).to.deep.equal(['hello, world']);
    });

    it('takes what arrives before the client closes as the message, as telnet or nc may send it', async () => {
      const server = await startServer(`${A1}/ex1-receive-one-message.js`);
      const socket = connect(server.port, '127.0.0.1');
      socket.end('no newline');
      expect((await server.exited).code).to.equal(0);
      expect(server.lines.stdout).to.deep.equal(['no newline']);
    });

    it('exits 1 when the client leaves without a message', async () => {
      const server = await startServer(`${A1}/ex1-receive-one-message.js`);
      connect(server.port, '127.0.0.1').end();
      expect((await server.exited).code).to.equal(1);
      expect(server.lines.stderr.at(-1)).to.match(/without a message/);
    });
  });

  describe('ex2: the text client', () => {
    it('sends piped lines, prints the replies, and exits 0 once every reply has arrived', async () => {
      const server = await startServer(`${A1}/ex4-echo-server.js`);
      const { code, stdout } = await run(
        `${A1}/ex2-text-client.js`,
        ['--port', String(server.port)],
        'one\ntwo\nthree\n',
      );
      expect(code).to.equal(0);
      expect(stdout).to.deep.equal(['one', 'two', 'three']);
    });

    it('talks to the exercise 1 server', async () => {
      const server = await startServer(`${A1}/ex1-receive-one-message.js`);
      const { code, stdout } = await run(
        `${A1}/ex2-text-client.js`,
        ['--port', String(server.port)],
        'just this\n',
      );
      expect(code).to.equal(0);
      expect(stdout).to.deep.equal(['just this']);
    });
  });

  describe('ex3: three threads', () => {
    it('greets from three threads, each saying goodbye after its greeting, then exits 0', async () => {
      const { code, stdout } = await run(`${A1}/ex3-threads.js`, []);
      expect(code).to.equal(0);
      expect(stdout).to.have.length(6);
      for (const id of [1, 2, 3]) {
        const greeting = stdout.indexOf(`Hi, I'm thread ${id}`);
        const farewell = stdout.findIndex((line) =>
          new RegExp(`^Bye from thread ${id}, after \\d+ ms of sleep$`).test(line),
        );
        expect(greeting, `thread ${id} greets`).to.be.at.least(0);
        expect(farewell, `thread ${id} says goodbye after greeting`).to.be.above(greeting);
      }
    });
  });

  describe('ex4: many clients at once', () => {
    it('echoes every client independently, and closes only the one that sends end', async () => {
      const server = await startServer(`${A1}/ex4-echo-server.js`);
      const clients = await Promise.all(
        Array.from({ length: 50 }, () => LineClient.connect(server.port)),
      );
      clients.forEach((client, i) => client.send(`first from ${i}`));
      clients.forEach((client, i) => client.send(`second from ${i}`));
      await Promise.all(
        clients.map(async (client, i) =>
          expect(await client.received(2)).to.deep.equal([`first from ${i}`, `second from ${i}`]),
        ),
      );
      const [leaving, ...staying] = clients as [LineClient, ...LineClient[]];
      leaving.send('end', 'never echoed');
      await leaving.closed;
      expect(leaving.frames).to.have.length(2);
      await server.line('stderr', /user 1 disconnected: client sent "end"/);
      staying.forEach((client, i) => client.send(`third from ${i + 1}`));
      await Promise.all(
        staying.map(async (client, i) =>
          expect((await client.received(3))[2]).to.equal(`third from ${i + 1}`),
        ),
      );
    });

    it('closes a connection whose line is over the limit, and says why', async () => {
      const server = await startServer(`${A1}/ex4-echo-server.js`, ['--max-line-bytes', '10']);
      const client = await LineClient.connect(server.port);
      client.send('x'.repeat(11));
      await client.closed;
      await server.line(
        'stderr',
        /user 1 disconnected: protocol error: line longer than the limit of 10 bytes/,
      );
    });

    it('has a client that sends its lines, then end, and exits 0', async () => {
      const server = await startServer(`${A1}/ex4-echo-server.js`);
      const { code, stdout } = await run(
        `${A1}/ex4-client.js`,
        ['--port', String(server.port)],
        'a\nb\n',
      );
      expect(code).to.equal(0);
      expect(stdout).to.deep.equal(['a', 'b']);
      await server.line('stderr', /user 1 disconnected: client sent "end"/);
    });
  });
});

describe('Assignment 2', function () {
  this.timeout(20_000);
  afterEach(stopAll);

  it('ex1: the operator answers num_users as text clients come and go', async () => {
    const server = await startServer(`${A2}/ex1-operator-text-server.js`);
    expect(await server.answer('num_users', /connected/)).to.equal('0 users connected');
    const clients = await Promise.all([1, 2, 3].map(() => LineClient.connect(server.port)));
    await server.lineCount('stderr', /connected from/, 3);
    expect(await server.answer('num_users', /connected/)).to.equal('3 users connected');
    clients[0]?.send('end');
    clients[1]?.reset();
    await server.lineCount('stderr', /disconnected/, 2);
    expect(await server.answer('num_users', /connected/)).to.equal('1 user connected');
  });

  it('ex2: echoes ChatMessages exactly as sent, without a handshake', async () => {
    const server = await startServer(`${A2}/ex2-protobuf-echo-server.js`);
    const socket = connect(server.port, '127.0.0.1');
    await once(socket, 'connect');
    const sent = chatMessageCodec().encode([
      chat(5, '-9223372036854775808', 'ünïcode'),
      chat(0, 0, ''),
    ]);
    socket.write(sent);
    const echoed: Buffer[] = [];
    let length = 0;
    while (length < sent.length) {
      const [chunk] = (await once(socket, 'data')) as [Buffer];
      echoed.push(chunk);
      length += chunk.length;
    }
    expect(Buffer.concat(echoed)).to.deep.equal(Buffer.from(sent));
    socket.destroy();
  });

  it('ex2: its client sends piped lines and prints the echoes', async () => {
    const server = await startServer(`${A2}/ex2-protobuf-echo-server.js`);
    const { code, stdout } = await run(
      `${A2}/ex2-protobuf-echo-client.js`,
      ['--port', String(server.port)],
      'x\ny\n',
    );
    expect(code).to.equal(0);
    expect(stdout).to.deep.equal(['x', 'y']);
  });

  it('ex3: the chat server and client, handshake then echo', async () => {
    const server = await startChatServer();
    const { id } = await TestClient.join(server.port);
    const { code, stdout, stderr } = await run(
      'cli/client.js',
      ['--port', String(server.port)],
      'hi\n',
    );
    expect(id).to.equal('1');
    expect([code, stdout, stderr]).to.deep.equal([0, ['hi'], ['connected as 2']]);
  });
});

describe('every program', function () {
  this.timeout(20_000);
  const scripts = (
    JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    }
  ).scripts;
  const programs = Object.entries(scripts)
    .map(([name, command]) => [name, /^node dist\/(\S+\.js)$/.exec(command)?.[1]] as const)
    .filter((entry): entry is readonly [string, string] => entry[1] !== undefined);

  it('has a compiled main behind each npm script', () => {
    expect(programs.map(([name]) => name)).to.include.members([
      'start',
      'client',
      'a1:ex1',
      'a2:ex3',
      'a2:ex3:client',
    ]);
    for (const [name, path] of programs) expect(existsSync(program(path)), name).to.equal(true);
  });

  for (const badFlags of [['--port', 'abc'], ['--port', '70000'], ['--no-such-flag']]) {
    it(`rejects ${badFlags.join(' ')} with a one-line usage error and exit code 2`, async () => {
      for (const [name, path] of programs) {
        if (name === 'a1:ex3' && badFlags[0] === '--port') continue; // it has no --port
        const { code, stderr } = await run(path, badFlags);
        expect(code, name).to.equal(2);
        expect(stderr, name).to.have.length(1);
        expect(stderr[0], name).to.match(/; usage: npm (start|run \S+) /);
      }
    });
  }
});
