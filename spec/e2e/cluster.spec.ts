import { expect } from 'chai';
import { setTimeout as pause } from 'node:timers/promises';
import { ack, chat, hello, PlainFrame } from '../support/frames';
import { CHAT_SERVER, RunningProgram, startServer, stopAll } from '../support/programs';
import { RedisProcess } from '../support/redis-server';
import { TestClient } from '../support/tcp-client';

type Chat = Extract<PlainFrame, { from: string }>;
type Node = Awaited<ReturnType<typeof startServer>>;

interface User {
  readonly client: TestClient;
  readonly id: string;
  readonly secret: Uint8Array;
}

const isChat = (frame: PlainFrame): frame is Chat => 'from' in frame;
const isDelivery = (frame: PlainFrame): frame is Chat =>
  isChat(frame) && frame.delivery !== undefined;
const noticeOf = (frame: PlainFrame) => (isChat(frame) ? frame.notice : undefined);

const STORE_AWAY = 'passed on live but not kept: the store cannot be reached';
const NOT_STORED = 'REFUSED: the server could not store it';

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A node of the cluster on a free port, keeping nothing of its own, its console on stdin. */
function startNode(redis: RedisProcess, name: string): Promise<Node> {
  return startServer(CHAT_SERVER, ['--db', ':memory:', '--redis', redis.url, '--node', name]);
}

/** A client that said hello on `node` and was welcomed as a new user. */
async function joinWithHello(node: Node): Promise<User> {
  const { client, id } = await TestClient.join(node.port);
  client.send(hello());
  await client.frameWhere((frame) => noticeOf(frame) === 'WELCOME NEW_USER');
  return { client, id, secret: client.secret as Uint8Array };
}

/** A new connection to `node` that resumes `user` with its secret; resolves with the welcome. */
async function resume(node: Node, user: User): Promise<{ client: TestClient; welcome: Chat }> {
  const { client } = await TestClient.join(node.port);
  client.send(hello(user.id, user.secret));
  const welcome = (await client.frameWhere((frame) => noticeOf(frame) !== undefined)) as Chat;
  return { client, welcome };
}

/** The echo of `text` on the sender's connection, once its receipt has arrived. */
async function receiptOf(user: User | TestClient, text: string): Promise<string | undefined> {
  const client = user instanceof TestClient ? user : user.client;
  const echo = await client.frameWhere(
    (frame) => isChat(frame) && frame.msg === text && frame.delivery === undefined,
  );
  return isChat(echo) ? echo.receipt : undefined;
}

/**
 * Sends something that needs no store after what was sent before, and waits for its echo: the
 * connection answers in order, so everything before it (an acknowledgement too) is done.
 */
async function settle(user: User, marker: string): Promise<void> {
  user.client.send(chat(0, 0, marker));
  await user.client.frameWhere((frame) => isChat(frame) && frame.msg === marker);
}

/** The lines of a console answer, from the first line after the command to the one matching `last`. */
async function answerLines(node: RunningProgram, command: string, last: RegExp): Promise<string[]> {
  const before = node.lines.stdout.length;
  const final = await node.answer(command, last);
  const lines = node.lines.stdout.slice(before);
  return lines.slice(0, lines.indexOf(final) + 1);
}

/** `work`, or a failure saying what did not happen within `ms`. */
async function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not within ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Asks again, at most every `every` ms, until `attempt` gives a value; fails past the deadline. */
async function eventually<T>(
  what: string,
  withinMs: number,
  attempt: () => Promise<T | undefined>,
  every = 100,
): Promise<T> {
  const deadline = Date.now() + withinMs;
  let last: unknown;
  for (;;) {
    try {
      const found = await attempt();
      if (found !== undefined) return found;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? `: ${last.message}` : '';
      throw new Error(`not within ${withinMs} ms: ${what}${why}`);
    }
    await pause(every);
  }
}

/** Polls `num_users` on `node` until it answers `expected`; fails with the last answer past the deadline. */
async function numUsersBecomes(node: Node, expected: string, withinMs = 8000): Promise<void> {
  let seen = '';
  try {
    await eventually(`num_users says "${expected}"`, withinMs, async () => {
      seen = await node.answer('num_users', /connected/);
      return seen === expected ? true : undefined;
    });
  } catch (error) {
    throw new Error(`${(error as Error).message}; the last answer was "${seen}"`, { cause: error });
  }
}

describe('a cluster of chat servers over one Redis', function () {
  this.timeout(30_000);
  let redis: RedisProcess | undefined;
  let a: Node;
  let b: Node;
  let c: Node;

  beforeEach(async () => {
    redis = await RedisProcess.start();
    [a, b, c] = await Promise.all([
      startNode(redis, 'a'),
      startNode(redis, 'b'),
      startNode(redis, 'c'),
    ]);
  });

  afterEach(async () => {
    stopAll();
    await redis?.remove();
    redis = undefined;
  });

  it('carries direct messages both ways between users on different nodes, with receipts, numbers and acknowledgements', async () => {
    const alice = await joinWithHello(a);
    const bob = await joinWithHello(b);
    alice.client.send(chat(0, bob.id, 'hi bob'));
    expect(await receiptOf(alice, 'hi bob')).to.equal('DELIVERED');
    expect(await bob.client.frameWhere(isDelivery)).to.deep.equal({
      from: alice.id,
      to: bob.id,
      msg: 'hi bob',
      delivery: '1',
    });
    bob.client.send(ack(1), chat(0, alice.id, 'hi alice'));
    expect(await receiptOf(bob, 'hi alice')).to.equal('DELIVERED');
    expect(await alice.client.frameWhere(isDelivery)).to.deep.equal({
      from: bob.id,
      to: alice.id,
      msg: 'hi alice',
      delivery: '1',
    });
    alice.client.send(ack(1));

    // Two more for bob; he acknowledges the first, and his connection dies.
    alice.client.send(chat(0, bob.id, 'two'), chat(0, bob.id, 'three'));
    await bob.client.frameWhere((f) => isDelivery(f) && f.msg === 'three');
    bob.client.send(ack(2));
    await settle(bob, 'acknowledged 2');
    bob.client.reset();
    await b.line('stderr', new RegExp(`^user ${bob.id} disconnected`));

    // He comes back on a third node: only what he did not acknowledge, with the same number.
    const again = await resume(c, bob);
    expect(again.welcome).to.include({ notice: 'WELCOME RESUMED' });
    expect(await again.client.frameWhere(isDelivery)).to.deep.equal({
      from: alice.id,
      to: bob.id,
      msg: 'three',
      delivery: '3',
      redelivered: true,
    });
    again.client.send(ack(3));
    alice.client.send(chat(0, bob.id, 'four'));
    expect(await receiptOf(alice, 'four')).to.equal('DELIVERED');
    // (Its redelivered flag may be set: the node looks at the store again after a resume.)
    expect(await again.client.frameWhere((f) => isDelivery(f) && f.msg === 'four')).to.include({
      from: alice.id,
      to: bob.id,
      msg: 'four',
      delivery: '4',
    });
    const seen = again.client.frames.filter(isDelivery).map((f) => f.msg);
    expect(seen, 'each message once').to.deep.equal(['three', 'four']);
  });

  it('keeps a message for a user who is offline, and delivers it on whichever node the user comes back to', async () => {
    const alice = await joinWithHello(a);
    const bob = await joinWithHello(b);
    await bob.client.end();
    await b.line('stderr', new RegExp(`^user ${bob.id} disconnected`));
    // Once bob's node says he is gone, he is offline for the whole cluster.
    alice.client.send(chat(0, bob.id, 'while you were away'));
    expect(await receiptOf(alice, 'while you were away')).to.equal('STORED');
    expect(await c.answer('users', new RegExp(`^user ${bob.id} `))).to.equal(
      `user ${bob.id} offline, 1 message waiting`,
    );

    const again = await resume(c, bob);
    expect(again.welcome).to.include({ notice: 'WELCOME RESUMED' });
    expect(await again.client.frameWhere(isDelivery)).to.deep.include({
      from: alice.id,
      to: bob.id,
      msg: 'while you were away',
      delivery: '1',
    });
  });

  it('gives out ids unique across the nodes, and never again, a node killed or not', async () => {
    const ids: string[] = [];
    for (let round = 0; round < 4; round++) {
      for (const node of [a, b, c]) ids.push((await TestClient.join(node.port)).id);
    }
    expect(new Set(ids).size, ids.join(' ')).to.equal(ids.length);
    b.child.kill('SIGKILL');
    await b.exited;
    const d = await startNode(redis as RedisProcess, 'd');
    const later: string[] = [];
    for (const node of [a, c, d, d]) later.push((await TestClient.join(node.port)).id);
    expect(new Set([...ids, ...later]).size, [...ids, '|', ...later].join(' ')).to.equal(
      ids.length + later.length,
    );
    const highest = ids.reduce((max, id) => (BigInt(id) > max ? BigInt(id) : max), 0n);
    for (const id of later.slice(2)) {
      expect(BigInt(id) > highest, `the new node's ${id} is new`).to.equal(true);
    }
  });

  it('counts the users of every node exactly after joins, clean leaves and resets', async () => {
    const alice = await joinWithHello(a);
    const bob = await joinWithHello(b);
    const { client: bert, id: bertId } = await TestClient.join(b.port);
    expect(await a.answer('num_users', /connected/)).to.equal(
      '1 user connected here, 3 in the cluster',
    );
    expect(await b.answer('num_users', /connected/)).to.equal(
      '2 users connected here, 3 in the cluster',
    );
    expect(await c.answer('num_users', /connected/)).to.equal(
      '0 users connected here, 3 in the cluster',
    );

    await bob.client.end();
    await b.line('stderr', new RegExp(`^user ${bob.id} disconnected`));
    expect(await c.answer('num_users', /connected/)).to.equal(
      '0 users connected here, 2 in the cluster',
    );
    bert.reset();
    await b.line('stderr', new RegExp(`^user ${bertId} disconnected`));
    expect(await a.answer('num_users', /connected/)).to.equal(
      '1 user connected here, 1 in the cluster',
    );
    alice.client.reset();
    await a.line('stderr', new RegExp(`^user ${alice.id} disconnected`));
    expect(await b.answer('num_users', /connected/)).to.equal(
      '0 users connected here, 0 in the cluster',
    );
  });

  it('resumes a user on any node with its secret, taking over its connection on another node', async () => {
    const bob = await joinWithHello(a);
    const newer = await resume(b, bob);
    expect(newer.welcome).to.include({ notice: 'WELCOME RESUMED' });
    expect(await bob.client.frameWhere((f) => noticeOf(f) !== undefined, 2)).to.include({
      notice: 'CLOSING TAKEN_OVER',
    });
    await bob.client.closed;
    await a.line(
      'stderr',
      new RegExp(`^user ${bob.id} disconnected: the same user connected again`),
    );
    expect(await c.answer('num_users', /connected/)).to.equal(
      '0 users connected here, 1 in the cluster',
    );
    expect(await c.answer('users', new RegExp(`^user ${bob.id}`))).to.equal(
      `user ${bob.id} on node b`,
    );

    const alice = await joinWithHello(c);
    alice.client.send(chat(0, bob.id, 'to the newer one'));
    expect(await receiptOf(alice, 'to the newer one')).to.equal('DELIVERED');
    expect(await newer.client.frameWhere(isDelivery)).to.include({ msg: 'to the newer one' });

    const { client: wrong } = await TestClient.join(c.port);
    wrong.send(hello(bob.id, Buffer.alloc(16)));
    expect(await wrong.frameWhere(isChat)).to.include({ notice: 'CLOSING WRONG_SECRET' });
    await wrong.closed;
  });

  it('stops counting a node killed with -9, and its users get what was kept for them on another node', async () => {
    const alice = await joinWithHello(a);
    const bob = await joinWithHello(b);
    const carol = await joinWithHello(c);
    const dave = await joinWithHello(c);
    bob.client.send(chat(0, carol.id, 'before'));
    expect(await receiptOf(bob, 'before')).to.equal('DELIVERED');
    await carol.client.frameWhere((f) => isDelivery(f) && f.msg === 'before'); // not acknowledged
    expect(await a.answer('num_users', /connected/)).to.equal(
      '1 user connected here, 4 in the cluster',
    );

    c.child.kill('SIGKILL');
    await c.exited;
    await Promise.all([carol.client.closed, dave.client.closed]);
    // Sent before the cluster knows that c is gone: kept all the same.
    bob.client.send(chat(0, carol.id, 'in the gap'));
    expect(await receiptOf(bob, 'in the gap')).to.be.oneOf(['DELIVERED', 'STORED']);

    await numUsersBecomes(a, '1 user connected here, 2 in the cluster');
    alice.client.send(chat(0, carol.id, 'while you were away'));
    expect(await receiptOf(alice, 'while you were away')).to.equal('STORED');

    const carolAgain = await resume(a, carol);
    expect(carolAgain.welcome).to.include({ notice: 'WELCOME RESUMED' });
    const kept = (await carolAgain.client.received(5)).slice(2);
    expect(kept).to.have.length(3);
    expect(kept[0]).to.deep.equal({
      from: bob.id,
      to: carol.id,
      msg: 'before',
      delivery: '1',
      redelivered: true,
    });
    expect(kept[1]).to.deep.include({
      from: bob.id,
      to: carol.id,
      msg: 'in the gap',
      delivery: '2',
    });
    expect(kept[2]).to.deep.include({
      from: alice.id,
      to: carol.id,
      msg: 'while you were away',
      delivery: '3',
    });
    carolAgain.client.send(ack(3));

    const daveAgain = await resume(b, dave);
    expect(daveAgain.welcome).to.include({ notice: 'WELCOME RESUMED' });
    expect(await b.answer('num_users', /connected/)).to.equal(
      '2 users connected here, 4 in the cluster',
    );
    daveAgain.client.send(chat(0, carol.id, 'from b to a'));
    expect(await receiptOf(daveAgain.client, 'from b to a')).to.equal('DELIVERED');
    expect(
      await carolAgain.client.frameWhere((f) => isDelivery(f) && f.msg === 'from b to a'),
    ).to.include({ from: dave.id, delivery: '4' });
  });

  it('keeps serving its own users while Redis is away, and works across the nodes again once it is back', async () => {
    const url = escape((redis as RedisProcess).url);
    const olga = await joinWithHello(c); // offline from the start
    await olga.client.end();
    await c.line('stderr', new RegExp(`^user ${olga.id} disconnected`));
    const alice = await joinWithHello(a);
    const amy = await joinWithHello(a);
    const bob = await joinWithHello(b);
    const carl = await joinWithHello(c);

    alice.client.send(
      chat(0, olga.id, 'kept for olga'),
      chat(0, bob.id, 'one'),
      chat(0, bob.id, 'two'),
    );
    expect(await receiptOf(alice, 'kept for olga')).to.equal('STORED');
    expect(await receiptOf(alice, 'two')).to.equal('DELIVERED');
    await bob.client.frameWhere((f) => isDelivery(f) && f.msg === 'two');
    bob.client.send(ack(1));
    await settle(bob, 'acknowledged 1');

    await (redis as RedisProcess).stop('SIGTERM');
    for (const node of [a, b, c]) {
      await node.line('stderr', new RegExp(`^redis at ${url}: connection lost`));
      await node.line('stderr', new RegExp(`^redis at ${url}: trying again in \\d+ ms`));
    }

    // Each node serves its own users: echoes, and direct messages passed on live, not kept.
    alice.client.send(chat(0, 0, 'still echoing'));
    expect(
      await alice.client.frameWhere((f) => isChat(f) && f.msg === 'still echoing'),
    ).to.deep.equal({ from: alice.id, to: '0', msg: 'still echoing' });
    alice.client.send(chat(0, amy.id, 'live, to amy'));
    expect(await receiptOf(alice, 'live, to amy')).to.equal(`DELIVERED: ${STORE_AWAY}`);
    expect(await amy.client.frameWhere((f) => isChat(f) && f.msg === 'live, to amy')).to.deep.equal(
      {
        from: alice.id,
        to: amy.id,
        msg: 'live, to amy',
      },
    );
    // What needs the cluster is refused.
    alice.client.send(chat(0, bob.id, 'to another node'), chat(0, olga.id, 'to someone offline'));
    expect(await receiptOf(alice, 'to another node')).to.equal(NOT_STORED);
    expect(await receiptOf(alice, 'to someone offline')).to.equal(NOT_STORED);
    bob.client.send(chat(0, 0, 'b still echoing'));
    await bob.client.frameWhere((f) => isChat(f) && f.msg === 'b still echoing');
    // Nobody new is let in: a new user cannot be kept.
    const newcomer = await TestClient.connect(b.port);
    await newcomer.closed;
    expect(newcomer.frames).to.deep.equal([{ refused: true }]);
    // A user leaves node c while Redis is away.
    await carl.client.end();
    await c.line('stderr', new RegExp(`^user ${carl.id} disconnected`));

    await (redis as RedisProcess).restart();
    for (const node of [a, b, c]) {
      await node.line('stderr', new RegExp(`^redis at ${url}: connected again`));
    }

    // Across nodes again: retried until it is delivered, within a deadline.
    let attempt = 0;
    await eventually('a message from a to b is delivered', 10_000, async () => {
      const text = `three, attempt ${++attempt}`;
      alice.client.send(chat(0, bob.id, text));
      const receipt = await receiptOf(alice, text);
      return receipt === 'DELIVERED' ? text : undefined;
    });
    const lastAttempt = `three, attempt ${attempt}`;
    const live = await bob.client.frameWhere((f) => isDelivery(f) && f.msg === lastAttempt);
    expect(live).to.include({ from: alice.id, to: bob.id });
    bob.client.send(chat(0, alice.id, 'back to a'));
    expect(await receiptOf(bob, 'back to a')).to.equal('DELIVERED');
    await alice.client.frameWhere((f) => isDelivery(f) && f.msg === 'back to a');
    alice.client.send(chat(0, amy.id, 'kept again'));
    expect(await receiptOf(alice, 'kept again')).to.equal('DELIVERED');

    // Nobody is counted who left while Redis was away, and messages for them are kept.
    await numUsersBecomes(a, '2 users connected here, 3 in the cluster');
    alice.client.send(chat(0, carl.id, 'carl left'));
    expect(await receiptOf(alice, 'carl left')).to.equal('STORED');

    // Nothing acknowledged is lost, and nothing acknowledged comes back.
    const olgaAgain = await resume(b, olga);
    expect(olgaAgain.welcome).to.include({ notice: 'WELCOME RESUMED' });
    expect(await olgaAgain.client.frameWhere(isDelivery)).to.deep.include({
      from: alice.id,
      msg: 'kept for olga',
      delivery: '1',
    });
    const bobDeliveries = bob.client.frames.filter(isDelivery);
    const lastNumber = bobDeliveries.at(-1)?.delivery as string;
    bob.client.reset();
    await b.line('stderr', new RegExp(`^user ${bob.id} disconnected`));
    const bobAgain = await resume(c, bob);
    expect(bobAgain.welcome).to.include({ notice: 'WELCOME RESUMED' });
    const kept = (await bobAgain.client.received(2 + Number(lastNumber) - 1)).slice(2);
    expect(kept.map((f) => isChat(f) && f.delivery)).to.deep.equal(
      bobDeliveries.slice(1).map((f) => f.delivery),
    );
    expect(kept.map((f) => isChat(f) && f.msg)).to.deep.equal(
      bobDeliveries.slice(1).map((f) => f.msg),
    );
    expect(kept[0]).to.include({ msg: 'two', delivery: '2' });
  });

  it('loses no message whose receipt was sent when Redis stops in the middle of a burst', async () => {
    const url = escape((redis as RedisProcess).url);
    const bob = await joinWithHello(b);
    await bob.client.end(); // offline: everything for bob must be kept
    await b.line('stderr', new RegExp(`^user ${bob.id} disconnected`));
    const alice = await joinWithHello(a);

    let sent = 0;
    const sendSome = async (count: number) => {
      const messages = Array.from({ length: count }, () => chat(0, bob.id, `m${sent++}`));
      alice.client.send(...messages);
      await receiptOf(alice, `m${sent - 1}`);
    };
    await sendSome(50);
    // Alice goes on sending, ten at a time, while Redis shuts down (at most 900 in all: fewer
    // than a user may have unacknowledged, so that all come at once on resume).
    const stopping = (redis as RedisProcess).stop('SIGTERM');
    const redisIs = { stopped: false };
    void stopping.then(() => (redisIs.stopped = true));
    while (!redisIs.stopped && sent < 900) await sendSome(10);
    await stopping;
    await sendSome(10);
    const echoes = alice.client.frames.filter(
      (f): f is Chat => isChat(f) && f.from === alice.id && f.receipt !== undefined,
    );
    expect(echoes.map((f) => f.msg)).to.deep.equal(Array.from({ length: sent }, (_, i) => `m${i}`));
    const kept = echoes.filter((f) => f.receipt === 'STORED').map((f) => f.msg);
    const refused = echoes.filter((f) => f.receipt === NOT_STORED);
    expect(kept.length + refused.length, 'each STORED or refused').to.equal(sent);
    expect(refused.length, 'some refused while Redis was away').to.be.greaterThan(0);

    await within(
      10_000,
      'node b says it lost Redis',
      b.line('stderr', new RegExp(`^redis at ${url}: connection lost`)),
    );
    await (redis as RedisProcess).restart();
    await within(
      10_000,
      'node b says Redis is back',
      b.line('stderr', new RegExp(`^redis at ${url}: connected again`)),
    );
    const again = await resume(b, bob);
    expect(again.welcome).to.include({ notice: 'WELCOME RESUMED' });
    // Everything kept, in order, each once, numbered 1, 2, 3 …
    await within(
      10_000,
      `the ${kept.length} messages kept for bob`,
      again.client.received(2 + kept.length),
    );
    again.client.send(chat(0, 0, 'done'));
    await again.client.frameWhere((f) => isChat(f) && f.msg === 'done');
    const deliveries = again.client.frames.filter(isDelivery);
    const texts = deliveries.map((f) => f.msg);
    expect(
      texts.filter((text) => !kept.includes(text)).length,
      'stored, though refused: only those in flight',
    ).to.be.at.most(10);
    for (const text of kept) expect(texts, `${text} had a receipt`).to.include(text);
    expect(new Set(texts).size, 'each once').to.equal(texts.length);
    expect(deliveries.map((f) => f.delivery)).to.deep.equal(
      deliveries.map((_, i) => String(i + 1)),
    );
    const order = texts.map((text) => Number(text.slice(1)));
    expect(order, 'in the order sent').to.deep.equal([...order].sort((x, y) => x - y));
  });

  it('says on stderr that it lost Redis, that it tries again, and that Redis is back, even when Redis is back at once', async () => {
    const url = escape((redis as RedisProcess).url);
    const alice = await joinWithHello(a);
    const bob = await joinWithHello(b);
    await (redis as RedisProcess).stop('SIGTERM');
    const retrying = new RegExp(`^redis at ${url}: trying again in \\d+ ms`);
    await within(5000, 'a says it tries again', a.line('stderr', retrying));
    await (redis as RedisProcess).restart(); // at once: perhaps before a's first attempt
    const back = new RegExp(`^redis at ${url}: connected again$`);
    await within(10_000, 'a says Redis is back', a.line('stderr', back));
    const said = a.lines.stderr.filter((line) => line.startsWith('redis at '));
    expect(said[0], said.join(' / ')).to.match(new RegExp(`^redis at ${url}: connection lost`));
    let attempt = 0;
    await eventually('a message from a to b is delivered', 10_000, async () => {
      const text = `after the restart, attempt ${++attempt}`;
      alice.client.send(chat(0, bob.id, text));
      return (await receiptOf(alice, text)) === 'DELIVERED' ? true : undefined;
    });
  });

  it('kicks and broadcasts across the nodes', async () => {
    const alice = await joinWithHello(a);
    const bob = await joinWithHello(b);
    const carol = await joinWithHello(c);
    expect(await c.answer('broadcast hello, cluster', /^broadcast/)).to.equal(
      'broadcast to 3 users in the cluster',
    );
    for (const user of [alice, bob, carol]) {
      expect(
        await user.client.frameWhere((f) => isChat(f) && f.msg === 'hello, cluster'),
      ).to.deep.equal({ from: '0', to: '0', msg: 'hello, cluster' });
    }

    expect(await a.answer(`kick ${bob.id}`, /kick/)).to.equal(`kicking user ${bob.id} on node b`);
    expect(await bob.client.frameWhere((f) => noticeOf(f) !== undefined, 2)).to.include({
      notice: 'CLOSING KICKED',
    });
    await bob.client.closed;
    await b.line('stderr', new RegExp(`^user ${bob.id} disconnected`));
    expect(await a.answer(`kick ${alice.id}`, /kick/)).to.equal(`kicking user ${alice.id}`);
    await alice.client.closed;
    await a.line('stderr', new RegExp(`^user ${alice.id} disconnected`));
    expect(await a.answer(`kick ${alice.id}`, /kick|connected/)).to.equal(
      `no user ${alice.id} is connected`,
    );
    expect(await b.answer('num_users', /connected/)).to.equal(
      '0 users connected here, 1 in the cluster',
    );
    expect(await a.answer('broadcast anyone left?', /^broadcast/)).to.equal(
      'broadcast to 1 user in the cluster',
    );
    expect(await carol.client.frameWhere((f) => isChat(f) && f.msg === 'anyone left?')).to.include({
      from: '0',
    });
  });

  it('lists the nodes, their users and their stats, and every user with the node it is on', async () => {
    const olga = await joinWithHello(c); // offline from the start
    await olga.client.end();
    await c.line('stderr', new RegExp(`^user ${olga.id} disconnected`));
    const alice = await joinWithHello(a);
    const bob = await joinWithHello(b);
    const bert = await joinWithHello(b);
    alice.client.send(chat(0, bob.id, 'hello'), chat(0, olga.id, 'for later'));
    expect(await receiptOf(alice, 'for later')).to.equal('STORED');
    await bob.client.frameWhere(isDelivery);

    const heard = String.raw`last heard \d+\.\d s ago`;
    const nodes = await answerLines(b, 'nodes', /^node c /);
    expect(nodes).to.have.length(3);
    expect(nodes[0]).to.match(
      new RegExp(`^node a at 127\\.0\\.0\\.1:${a.port}: 1 user, ${heard}$`),
    );
    expect(nodes[1]).to.match(
      new RegExp(`^node b at 127\\.0\\.0\\.1:${b.port}: 2 users, ${heard} \\(this node\\)$`),
    );
    expect(nodes[2]).to.match(
      new RegExp(`^node c at 127\\.0\\.0\\.1:${c.port}: 0 users, ${heard}$`),
    );

    // What each node did reaches the others with its next heartbeat (every second).
    const reported = [/^node a: .*direct messages 2 stored/, /^node b: .* 1 delivered/];
    const stats = await eventually('nodes a and b report their direct messages', 5000, async () => {
      const lines = await answerLines(c, 'stats', /^node c: /);
      const all = reported.every((pattern) => lines.some((line) => pattern.test(line)));
      return all ? lines : undefined;
    });
    expect(stats[0]).to.match(/^uptime /);
    expect(stats).to.include('users now 0, peak 1');
    const perNode = stats.filter((line) => /^node /.test(line));
    expect(perNode).to.have.length(3);
    expect(perNode[0]).to.match(
      /^node a: 1 user, messages \d+ in, \d+ out, direct messages 2 stored, 0 delivered, 0 acknowledged, 0 refused, heard \d+\.\d s ago$/,
    );
    expect(perNode[1]).to.match(/^node b: 2 users, .*direct messages 0 stored, 1 delivered, /);
    expect(perNode[2]).to.match(/^node c: 0 users, /);

    const users = await answerLines(a, 'users', new RegExp(`^user ${olga.id} `));
    expect(users[0]).to.match(
      new RegExp(`^user ${alice.id} on node a from 127\\.0\\.0\\.1:\\d+, connected since `),
    );
    expect(users.slice(1, 3).sort()).to.deep.equal(
      [`user ${bob.id} on node b`, `user ${bert.id} on node b`].sort(),
    );
    expect(users.slice(3)).to.deep.equal([`user ${olga.id} offline, 1 message waiting`]);
  });

  it('stops counting a node that quits at once, and its users with it', async () => {
    await joinWithHello(a);
    await joinWithHello(b);
    await joinWithHello(b);
    expect(await c.answer('num_users', /connected/)).to.equal(
      '0 users connected here, 3 in the cluster',
    );
    b.child.stdin?.write('quit\n');
    expect(await b.exited).to.deep.equal({ code: 0, signal: null });
    // Not within the three seconds a heartbeat lasts: as soon as it has exited.
    expect(await c.answer('num_users', /connected/)).to.equal(
      '0 users connected here, 1 in the cluster',
    );
    const nodes = await answerLines(c, 'nodes', /^node c /);
    expect(nodes.map((line) => line.split(' ')[1])).to.deep.equal(['a', 'c']);
  });
});
