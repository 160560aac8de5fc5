import { expect } from 'chai';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ack, chat, hello, PlainFrame } from '../support/frames';
import { CHAT_SERVER, run, startChatServer } from '../support/programs';
import { eachTestInTemporaryDirectory } from '../support/temporary-directory';
import { TestClient } from '../support/tcp-client';

const CLIENT = 'cli/client.js';

type Chat = Extract<PlainFrame, { from: string }>;

const isChat = (frame: PlainFrame): frame is Chat => 'from' in frame;
const isDelivery = (frame: PlainFrame) => isChat(frame) && frame.delivery !== undefined;
const noticeOf = (frame: PlainFrame) => (isChat(frame) ? frame.notice : undefined);

/** A client that said hello and was welcomed. */
async function joinWithHello(port: number) {
  const { client, id } = await TestClient.join(port);
  client.send(hello());
  await client.frameWhere((frame) => noticeOf(frame) === 'WELCOME NEW_USER');
  return { client, id, secret: client.secret as Uint8Array };
}

describe('direct messages over TCP', function () {
  this.timeout(30_000);
  const temporary = eachTestInTemporaryDirectory('chat-e2e-');
  let dir: string;
  beforeEach(() => (dir = temporary.path()));

  it('carries messages both ways between two users, with receipts and delivery numbers', async () => {
    const server = await startChatServer();
    const alice = await joinWithHello(server.port);
    const bob = await joinWithHello(server.port);
    alice.client.send(chat(0, bob.id, 'hi bob'));
    bob.client.send(chat(0, alice.id, 'hi alice'));
    expect(await alice.client.frameWhere((f) => isChat(f) && f.msg === 'hi bob')).to.deep.equal({
      from: alice.id,
      to: bob.id,
      msg: 'hi bob',
      receipt: 'DELIVERED',
    });
    expect(await bob.client.frameWhere(isDelivery)).to.deep.equal({
      from: alice.id,
      to: bob.id,
      msg: 'hi bob',
      delivery: '1',
    });
    expect(await alice.client.frameWhere(isDelivery)).to.deep.equal({
      from: bob.id,
      to: alice.id,
      msg: 'hi alice',
      delivery: '1',
    });
  });

  it('keeps a message for an offline user and delivers it when the user resumes, after a restart too', async () => {
    const db = join(dir, 'chat.db');
    const first = await startChatServer(['--db', db]);
    const bob = await joinWithHello(first.port);
    await bob.client.end();
    const { client: alice, id: aliceId } = await joinWithHello(first.port);
    alice.send(chat(0, bob.id, 'while you were away'));
    expect(await alice.frameWhere((f) => isChat(f) && f.msg !== '')).to.include({
      receipt: 'STORED',
    });
    first.child.kill('SIGTERM');
    await first.exited;

    const second = await startChatServer(['--db', db]);
    const newcomer = await TestClient.join(second.port);
    expect(BigInt(newcomer.id) > BigInt(aliceId), 'ids are never given out twice').to.equal(true);
    const { client: again } = await TestClient.join(second.port);
    again.send(hello(bob.id, bob.secret));
    expect(await again.frameWhere(isChat)).to.include({ notice: 'WELCOME RESUMED' });
    expect(await again.frameWhere(isDelivery)).to.deep.equal({
      from: aliceId,
      to: bob.id,
      msg: 'while you were away',
      delivery: '1',
    });
    expect(await second.answer('users', new RegExp(`^user ${bob.id} `))).to.match(
      new RegExp(`^user ${bob.id} from 127\\.0\\.0\\.1:`),
    );
  });

  it('delivers again what a connection that died did not acknowledge, with the same number', async () => {
    const server = await startChatServer();
    const bob = await joinWithHello(server.port);
    const { client: alice } = await TestClient.join(server.port);
    alice.send(chat(0, bob.id, 'one'), chat(0, bob.id, 'two'));
    await bob.client.frameWhere((f) => isChat(f) && f.msg === 'two');
    bob.client.send(ack(1));
    bob.client.reset();
    await server.line('stderr', new RegExp(`user ${bob.id} disconnected`));

    const { client: again } = await TestClient.join(server.port);
    again.send(hello(bob.id, bob.secret));
    expect(await again.frameWhere(isDelivery)).to.deep.equal({
      from: '2',
      to: bob.id,
      msg: 'two',
      delivery: '2',
      redelivered: true,
    });
  });

  it('hands a user to its newest connection and closes the older one, saying why', async () => {
    const server = await startChatServer();
    const bob = await joinWithHello(server.port);
    const { client: newer } = await TestClient.join(server.port);
    newer.send(hello(bob.id, bob.secret));
    expect(await bob.client.frameWhere((f) => noticeOf(f) !== undefined, 2)).to.include({
      notice: 'CLOSING TAKEN_OVER',
    });
    await bob.client.closed;
    await server.line('stderr', /disconnected: the same user connected again/);
    expect(await server.answer('num_users', /connected/)).to.equal('1 user connected');
    const { client: alice } = await TestClient.join(server.port);
    alice.send(chat(0, bob.id, 'to the newer one'));
    expect(await newer.frameWhere(isDelivery)).to.include({ msg: 'to the newer one' });
  });

  it('answers every bad input with a clear error to that user only', async () => {
    const server = await startChatServer(['--max-pending', '3']);
    const bob = await joinWithHello(server.port);
    await bob.client.end();
    const { client: wrong } = await TestClient.join(server.port);
    wrong.send(hello(bob.id, Buffer.alloc(16)));
    expect(await wrong.frameWhere(isChat)).to.include({ notice: 'CLOSING WRONG_SECRET' });
    await wrong.closed;
    const { client: unknown } = await TestClient.join(server.port);
    unknown.send(hello(999_999, Buffer.alloc(16)));
    expect(await unknown.frameWhere(isChat)).to.include({ notice: 'CLOSING UNKNOWN_USER' });
    await unknown.closed;

    const alice = await joinWithHello(server.port);
    const sends = ['a', 'b', 'c', 'd'].map((msg) => chat(0, bob.id, msg));
    alice.client.send(hello(), chat(0, 987_654, 'nobody'), ack(1), ...sends);
    alice.client.send(hello(bob.id, bob.secret));
    const answers = (await alice.client.received(10)).slice(2).map((frame) => {
      if (!isChat(frame)) return frame;
      return frame.notice ?? frame.receipt ?? frame.msg;
    });
    expect(answers).to.deep.equal([
      'ERROR HELLO_NOT_FIRST',
      'REFUSED: no user has that id',
      'ERROR UNKNOWN_DELIVERY',
      'STORED',
      'STORED',
      'STORED',
      'REFUSED: too many messages are waiting for that user',
      'ERROR HELLO_NOT_FIRST',
    ]);
    alice.client.send(chat(0, 0, 'still here'));
    expect(await alice.client.frameWhere((f) => isChat(f) && f.msg === 'still here')).to.include({
      from: alice.id,
    });
    expect(await server.answer('users', new RegExp(`^user ${bob.id} offline`))).to.equal(
      `user ${bob.id} offline, 3 messages waiting`,
    );
    expect(await server.answer('stats', /^direct messages/)).to.equal(
      'direct messages 3 stored, 0 delivered, 0 acknowledged, 2 refused',
    );
  });

  it('refuses to start, in one line and with exit code 1, on a database it cannot use', async () => {
    const notADatabase = join(dir, 'garbage.db');
    writeFileSync(
      notADatabase,
      'this is not a database, just text that is long enough'.repeat(100),
    );
    const readOnly = join(dir, 'read-only.db');
    await run(CHAT_SERVER, ['--port', '0', '--db', readOnly], 'quit\n');
    chmodSync(readOnly, 0o444);
    for (const [db, reason] of [
      [notADatabase, 'file is not a database'],
      [readOnly, 'the file is read-only'],
      [dir, 'it is a directory'],
      [
        join(dir, 'no-such-dir', 'chat.db'),
        'Cannot open database because the directory does not exist',
      ],
    ] as const) {
      const { code, stderr } = await run(CHAT_SERVER, ['--port', '0', '--db', db]);
      expect([code, stderr], db).to.deep.equal([1, [`cannot use the database ${db}: ${reason}`]]);
    }
  });

  it('loses nothing whose receipt was sent when the server is killed with -9 in a burst', async () => {
    const db = join(dir, 'chat.db');
    const first = await startChatServer(['--db', db]);
    const bob = await joinWithHello(first.port);
    await bob.client.end();
    const { client: alice, id: aliceId } = await joinWithHello(first.port);
    const burst = Array.from({ length: 2000 }, (_, i) => chat(0, bob.id, `m${i}`));
    for (let i = 0; i < burst.length; i += 100) alice.send(...burst.slice(i, i + 100));
    await alice.frameWhere((f) => isChat(f) && f.receipt === 'STORED', 200);
    first.child.kill('SIGKILL');
    await first.exited;
    const receipted = alice.frames.filter((f) => isChat(f) && f.receipt === 'STORED').length;

    const second = await startChatServer(['--db', db]);
    const identityFile = join(dir, 'bob.json');
    writeFileSync(
      identityFile,
      JSON.stringify({ id: bob.id, secret: Buffer.from(bob.secret).toString('hex') }),
    );
    const { code, stdout } = await run(CLIENT, [
      '--port',
      String(second.port),
      '--identity',
      identityFile,
    ]);
    expect(code).to.equal(0);
    const kept = stdout.map((line) => line.replace(`${aliceId}: `, ''));
    expect(kept.length, 'every message with a receipt, and none twice').to.be.at.least(receipted);
    expect(kept).to.deep.equal(burst.slice(0, kept.length).map(({ msg }) => msg));
    const again2 = await run(CLIENT, ['--port', String(second.port), '--identity', identityFile]);
    expect(again2.stdout, 'all acknowledged the first time').to.deep.equal([]);
    expect(JSON.parse(readFileSync(identityFile, 'utf8'))).to.include({
      lastDelivery: String(kept.length),
    });
  });
});

describe('the chat client with an identity', function () {
  this.timeout(30_000);
  const temporary = eachTestInTemporaryDirectory('chat-identity-');
  let dir: string;
  beforeEach(() => (dir = temporary.path()));

  it('keeps its identity in a private file, and prints what was kept for it when it resumes', async () => {
    const server = await startChatServer();
    const identity = join(dir, 'me.json');
    const first = await run(CLIENT, ['--port', String(server.port), '--identity', identity], '');
    expect(first.code).to.equal(0);
    expect(statSync(identity).mode & 0o777).to.equal(0o600);
    const { id } = JSON.parse(readFileSync(identity, 'utf8')) as { id: string };

    const other = await run(CLIENT, ['--port', String(server.port), '--to', id], 'hello you\n');
    expect(other.stdout).to.deep.equal(['hello you']);
    const senderId = /connected as (\d+)/.exec(other.stderr.join('\n'))?.[1];

    const resumed = await run(
      CLIENT,
      ['--port', String(server.port), '--identity', identity],
      'me\n',
    );
    expect(resumed.code).to.equal(0);
    expect(resumed.stdout).to.deep.equal([`${senderId}: hello you`, 'me']);
    expect(resumed.stderr).to.deep.equal([`connected as ${id}`, '1 messages were kept for you']);
  });

  it('says in one line that an identity cannot be kept where it was told to keep it', async () => {
    const server = await startChatServer();
    const nowhere = join(dir, 'no-such-dir', 'me.json');
    const { code, stderr } = await run(CLIENT, [
      '--port',
      String(server.port),
      '--identity',
      nowhere,
    ]);
    expect([code, stderr]).to.deep.equal([
      1,
      ['connected as 1', `cannot keep the identity in ${nowhere}: its directory does not exist`],
    ]);
  });

  it('says in one line that an identity file cannot be used', async () => {
    const server = await startChatServer();
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"id": "x"}');
    const { code, stderr } = await run(CLIENT, ['--port', String(server.port), '--identity', bad]);
    expect([code, stderr]).to.deep.equal([
      1,
      [`cannot use the identity file ${bad}: "id" is not a user id`],
    ]);
  });
});
