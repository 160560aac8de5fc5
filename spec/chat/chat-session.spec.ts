import { expect } from 'chai';
import Long from 'long';
import { map, throwError } from 'rxjs';
import { ChatSignal, chatSession, hashSecret } from '../../src/chat/chat-session';
import { MAX_IN_FLIGHT } from '../../src/chat/delivery-window';
import { DirectMessageCounters } from '../../src/chat/direct-message-counters';
import { ServerFrame } from '../../src/protocol/messages';
import { Answer, SessionEffect, UserId } from '../../src/server/service';
import { ChatStore } from '../../src/store/chat-store';
import { SqliteStore } from '../../src/store/sqlite-store';
import { ack, chat, hello, PlainFrame, plainFrame } from '../support/frames';
import { immediateStore } from '../support/stores';

type ChatAnswer = Answer<ServerFrame, ChatSignal>;

/** What an answer comes to once all its work is done: every reply, effect and the close. */
interface Settled {
  readonly replies: PlainFrame[];
  readonly effects: SessionEffect<ChatSignal>[];
  readonly close?: string;
}

/** Follows an answer's work to its end; the store answers at once, so this is synchronous. */
function settle(answer: ChatAnswer): Settled {
  const replies = answer.replies.map(plainFrame);
  const effects = [...(answer.effects ?? [])];
  if (answer.close !== undefined) return { replies, effects, close: answer.close };
  if (!answer.then) return { replies, effects };
  let next: ChatAnswer | undefined;
  answer.then.subscribe((value) => (next = value)).unsubscribe();
  if (!next) throw new Error('the work did not answer at once');
  const rest = settle(next);
  return {
    ...rest,
    replies: [...replies, ...rest.replies],
    effects: [...effects, ...rest.effects],
  };
}

const SECRET = Buffer.alloc(16, 7);

/** Sessions on one store, with who is online played by the test. */
function chatWorld(store: ChatStore = immediateStore(), maxPending = 10_000, sharedStore = false) {
  const online = new Set<UserId>();
  const counters = new DirectMessageCounters();
  const deps = { store, maxPending, counters, newSecret: () => SECRET, sharedStore };
  const view = { isOnline: (id: UserId) => online.has(id) };
  return {
    store,
    online,
    counters,
    /**
     * A session greeted and online, as a connection accepted as user `id`, whose client said
     * hello, unless it knows only Assignment 2.
     */
    join(id: bigint, client: 'says hello' | 'knows only Assignment 2' = 'says hello') {
      const session = chatSession(id, view, deps);
      settle(session.greet());
      online.add(id);
      if (client === 'says hello') settle(session.answer([hello()]));
      return session;
    },
    session: (id: bigint) => chatSession(id, view, deps),
  };
}

/** The deliveries an answer signals, as the recipients' sessions hear them. */
function deliveries(settled: Settled): { to: UserId; signal: ChatSignal }[] {
  return settled.effects.flatMap((effect) =>
    'signal' in effect && 'deliver' in effect.signal
      ? [{ to: effect.to, signal: effect.signal }]
      : [],
  );
}

describe('chatSession', () => {
  it('greets with a handshake carrying the id and a secret, once the user is stored', () => {
    const world = chatWorld();
    const answer = world.session(3n).greet();
    expect(answer.replies).to.deep.equal([]);
    let handshake: ChatAnswer | undefined;
    answer.then?.subscribe((next) => (handshake = next));
    expect(handshake?.replies).to.deep.equal([
      { handshake: { id: Long.fromInt(3), error: false, secret: SECRET } },
    ]);
  });

  it('refuses with an error handshake and closes when the store cannot add the user', () => {
    const store = immediateStore();
    store.addUser = () => throwError(() => new Error('disk full'));
    const settled = settle(chatWorld(store).session(1n).greet());
    expect(settled.replies).to.deep.equal([{ refused: true }]);
    expect(settled.close).to.equal('could not store the new user: disk full');
  });

  it('echoes what is not a direct message at once, in order, with `from` set to the user', () => {
    const session = chatWorld().join(3n, 'knows only Assignment 2');
    const answer = session.answer([chat(99, 0, 'one'), chat(0, -1, 'two'), chat(-7, 3, '')]);
    expect(answer.then).to.equal(undefined);
    expect(answer.replies.map(plainFrame)).to.deep.equal([
      { from: '3', to: '0', msg: 'one' },
      { from: '3', to: '-1', msg: 'two' },
      { from: '3', to: '3', msg: '' },
    ]);
  });

  it('stores a direct message to a connected user, echoes it as delivered, and delivers it', () => {
    const world = chatWorld();
    const [alice, bob] = [world.join(1n), world.join(2n)];
    const sent = settle(
      alice.answer([chat(0, 0, 'before'), chat(0, 2, 'hi bob'), chat(0, 0, 'after')]),
    );
    expect(sent.replies).to.deep.equal([
      { from: '1', to: '0', msg: 'before' },
      { from: '1', to: '2', msg: 'hi bob', receipt: 'DELIVERED' },
      { from: '1', to: '0', msg: 'after' },
    ]);
    const [delivery] = deliveries(sent);
    expect(delivery?.to).to.equal(2n);
    const heard = settle(bob.hear((delivery as { signal: ChatSignal }).signal));
    expect(heard.replies).to.deep.equal([{ from: '1', to: '2', msg: 'hi bob', delivery: '1' }]);
    expect(world.counters).to.include({ stored: 1, delivered: 1, refused: 0 });
  });

  it('stores a message to an offline user as such, and refuses one to an id never given out', () => {
    const world = chatWorld();
    world.join(2n);
    world.online.delete(2n);
    const alice = world.join(1n);
    const sent = settle(alice.answer([chat(0, 2, 'later'), chat(0, 99, 'nobody')]));
    expect(sent.replies).to.deep.equal([
      { from: '1', to: '2', msg: 'later', receipt: 'STORED' },
      { from: '1', to: '99', msg: 'nobody', receipt: 'REFUSED: no user has that id' },
    ]);
    expect(world.counters).to.include({ stored: 1, refused: 1 });
  });

  it('refuses messages past --max-pending for one user, and takes them again once acknowledged', () => {
    const world = chatWorld(immediateStore(), 2);
    const bob = world.join(2n);
    const alice = world.join(1n);
    const sent = settle(alice.answer([chat(0, 2, 'a'), chat(0, 2, 'b'), chat(0, 2, 'c')]));
    expect(sent.replies.map((frame) => ('receipt' in frame ? frame.receipt : ''))).to.deep.equal([
      'DELIVERED',
      'DELIVERED',
      'REFUSED: too many messages are waiting for that user',
    ]);
    for (const { signal } of deliveries(sent)) settle(bob.hear(signal));
    settle(bob.answer([ack(2)]));
    const again = settle(alice.answer([chat(0, 2, 'c')]));
    expect(again.replies[0]).to.include({ receipt: 'DELIVERED' });
  });

  it('when the store fails, refuses what is for an offline user and passes the rest on live, unkept, and says so in the log', () => {
    const store = immediateStore();
    const world = chatWorld(store);
    const alice = world.join(1n);
    const bob = world.join(2n);
    settle(world.session(3n).greet());
    store.write = () => throwError(() => new Error('disk I/O error'));
    const sent = settle(alice.answer([chat(0, 3, 'x'), chat(0, 2, 'y'), chat(0, 2, 'z')]));
    const unkept = 'DELIVERED: passed on live but not kept: the store cannot be reached';
    expect(sent.replies).to.deep.equal([
      { from: '1', to: '3', msg: 'x', receipt: 'REFUSED: the server could not store it' },
      { from: '1', to: '2', msg: 'y', receipt: unkept },
      { from: '1', to: '2', msg: 'z', receipt: unkept },
    ]);
    expect(sent.effects).to.deep.include({ warn: 'could not store 3 messages: disk I/O error' });
    const relays = sent.effects.flatMap((effect) =>
      'signal' in effect && 'relay' in effect.signal ? [effect] : [],
    );
    expect(relays.map(({ to }) => to)).to.deep.equal([2n]);
    // No delivery number: nothing to acknowledge, nothing kept to deliver again.
    expect(settle(bob.hear((relays[0] as { signal: ChatSignal }).signal)).replies).to.deep.equal([
      { from: '1', to: '2', msg: 'y' },
      { from: '1', to: '2', msg: 'z' },
    ]);
    expect(world.counters).to.include({ stored: 0, refused: 1, delivered: 2 });
  });

  describe('acknowledgements', () => {
    function withDeliveries(count: number) {
      const world = chatWorld();
      const bob = world.join(2n);
      const alice = world.join(1n);
      const messages = Array.from({ length: count }, (_, i) => chat(0, 2, `m${i + 1}`));
      for (const { signal } of deliveries(settle(alice.answer(messages)))) settle(bob.hear(signal));
      return { world, bob };
    }

    it('removes what they cover from the store', async () => {
      const { world, bob } = withDeliveries(3);
      expect(settle(bob.answer([ack(2)])).replies).to.deep.equal([]);
      const users = await new Promise((resolve) => world.store.users().subscribe(resolve));
      expect(users).to.deep.include({ id: 2n, waiting: 1n });
      expect(world.counters.acknowledged).to.equal(2);
    });

    it('answers an ack of a delivery never sent, or already acknowledged, with an error', () => {
      const { bob } = withDeliveries(2);
      const settled = settle(bob.answer([ack(3), ack(2), ack(1), ack(2)]));
      expect(settled.replies.map((frame) => ('notice' in frame ? frame.notice : ''))).to.deep.equal(
        ['ERROR UNKNOWN_DELIVERY', 'ERROR ALREADY_ACKNOWLEDGED', 'ERROR ALREADY_ACKNOWLEDGED'],
      );
    });

    it('holds deliveries back past the in-flight limit, and sends them from the store once acknowledged', () => {
      const { world, bob } = withDeliveries(Number(MAX_IN_FLIGHT) + 2);
      const alice = world.join(1n);
      const more = deliveries(settle(alice.answer([chat(0, 2, 'last')])));
      expect(settle(bob.hear((more[0] as { signal: ChatSignal }).signal)).replies).to.deep.equal(
        [],
      );
      const afterAck = settle(bob.answer([ack(2)]));
      expect(
        afterAck.replies.map((frame) => ('delivery' in frame ? frame.delivery : '')),
      ).to.deep.equal([String(MAX_IN_FLIGHT + 1n), String(MAX_IN_FLIGHT + 2n)]);
    });
  });

  describe('a client that knows only Assignment 2', () => {
    it('gets the echo it always got for a `to` that is no user, and a receipt for one that is', () => {
      const world = chatWorld();
      world.join(2n);
      const alice = world.join(1n, 'knows only Assignment 2');
      const sent = settle(alice.answer([chat(0, 0, 'first'), chat(0, 2, 'hi'), chat(0, 99, 'x')]));
      expect(sent.replies).to.deep.equal([
        { from: '1', to: '0', msg: 'first' },
        { from: '1', to: '2', msg: 'hi', receipt: 'DELIVERED' },
        { from: '1', to: '99', msg: 'x' },
      ]);
      expect(deliveries(sent)).to.have.length(1);
    });

    it('has what it was written acknowledged for it, once its first frame is not a hello', async () => {
      const world = chatWorld();
      const bob = world.join(2n, 'knows only Assignment 2');
      const alice = world.join(1n);
      for (const { signal } of deliveries(settle(alice.answer([chat(0, 2, 'early')])))) {
        expect(settle(bob.hear(signal)).replies).to.have.length(1);
      }
      settle(bob.answer([chat(0, 0, 'plain')]));
      for (const { signal } of deliveries(settle(alice.answer([chat(0, 2, 'late')])))) {
        settle(bob.hear(signal));
      }
      const users = await new Promise((resolve) => world.store.users().subscribe(resolve));
      expect(users).to.deep.include({ id: 2n, waiting: 0n });
    });

    it('is told nothing new when it is kicked', () => {
      const bob = chatWorld().join(2n, 'knows only Assignment 2');
      expect(settle(bob.hear({ stop: 'kicked' }))).to.deep.equal({
        replies: [],
        effects: [],
        close: 'kicked by the operator',
      });
    });
  });

  describe('hello', () => {
    it('welcomes a new user, and is an error anywhere but first', () => {
      const alice = chatWorld().join(1n, 'knows only Assignment 2');
      const settled = settle(
        alice.answer([hello(), hello(), { ...chat(0, 2, 'x'), ack: Long.UONE }]),
      );
      expect(settled.replies.map((frame) => ('notice' in frame ? frame.notice : ''))).to.deep.equal(
        ['WELCOME NEW_USER', 'ERROR HELLO_NOT_FIRST', 'ERROR NOT_A_CHAT_MESSAGE'],
      );
    });

    it('resumes a user with its secret: takes over its connection and delivers what waits, in order', () => {
      const world = chatWorld();
      const bob = world.join(2n);
      const alice = world.join(1n);
      for (const { signal } of deliveries(settle(alice.answer([chat(0, 2, 'one')])))) {
        settle(bob.hear(signal));
      }
      world.online.delete(2n);
      settle(alice.answer([chat(0, 2, 'two')]));
      world.online.add(2n);

      const again = world.join(7n, 'knows only Assignment 2');
      const settled = settle(again.answer([hello(2n, SECRET), chat(0, 0, 'I am back')]));
      expect(settled.replies).to.deep.equal([
        { from: '0', to: '2', msg: '', notice: 'WELCOME RESUMED' },
        { from: '1', to: '2', msg: 'one', delivery: '1', redelivered: true },
        { from: '1', to: '2', msg: 'two', delivery: '2' },
        { from: '2', to: '0', msg: 'I am back' },
      ]);
      expect(settled.effects).to.deep.equal([
        { signal: { stop: 'taken-over' }, to: 2n },
        { become: 2n },
      ]);
      expect(settle(bob.hear({ stop: 'taken-over' }))).to.deep.include({
        replies: [{ from: '0', to: '2', msg: '', notice: 'CLOSING TAKEN_OVER' }],
        close: 'the same user connected again',
      });
    });

    it('in a cluster, asks the store again once it speaks for a resumed user, and sends what was stored meanwhile', () => {
      for (const sharedStore of [false, true]) {
        const store = immediateStore();
        const world = chatWorld(store, 10_000, sharedStore);
        world.join(2n);
        const alice = world.join(1n);
        world.online.delete(2n);
        settle(alice.answer([chat(0, 2, 'meanwhile')]));
        // The first look sees the user as it was before that message, stored on another node.
        const findUser = store.findUser.bind(store);
        let looks = 0;
        store.findUser = (id) =>
          findUser(id).pipe(
            map((user) =>
              looks++ === 0 && user ? { ...user, lastDelivery: user.acknowledged } : user,
            ),
          );
        const again = world.join(7n, 'knows only Assignment 2');
        const replies = settle(again.answer([hello(2n, SECRET)])).replies;
        const welcome = { from: '0', to: '2', msg: '', notice: 'WELCOME RESUMED' };
        expect(replies, `sharedStore ${sharedStore}`).to.deep.equal(
          sharedStore
            ? [welcome, { from: '1', to: '2', msg: 'meanwhile', delivery: '1' }]
            : [welcome],
        );
      }
    });

    it('looks at the store when told deliveries may have been missed, and sends what it had not heard of', () => {
      const world = chatWorld(immediateStore(), 10_000, true);
      const bob = world.join(2n);
      const alice = world.join(1n);
      // Stored, but its signal to bob was lost (the bus between the servers was away).
      settle(alice.answer([chat(0, 2, 'lost on the way')]));
      // Meant to be sent live, it may have been: it comes as a redelivery.
      expect(settle(bob.hear({ recheck: true })).replies).to.deep.equal([
        { from: '1', to: '2', msg: 'lost on the way', delivery: '1', redelivered: true },
      ]);
      expect(settle(bob.hear({ recheck: true })).replies).to.deep.equal([]);
    });

    it('closes the connection on a wrong secret or an id never given out, telling why', () => {
      const world = chatWorld();
      world.join(2n);
      const wrong = settle(
        world
          .join(3n, 'knows only Assignment 2')
          .answer([hello(2n, Buffer.alloc(16, 1)), chat(0, 0, 'x')]),
      );
      expect(wrong.replies).to.deep.equal([
        { from: '0', to: '3', msg: '', notice: 'CLOSING WRONG_SECRET' },
      ]);
      expect(wrong.close).to.equal('resume refused: wrong secret for user 2');
      const unknown = settle(
        world.join(4n, 'knows only Assignment 2').answer([hello(40n, SECRET)]),
      );
      expect(unknown.replies[0]).to.include({ notice: 'CLOSING UNKNOWN_USER' });
      expect(unknown.close).to.equal('resume refused: no user 40');
    });

    it('keeps only the hash of a secret', async () => {
      const store: SqliteStore = immediateStore();
      chatWorld(store).join(5n);
      const user = await new Promise<{ secretHash: Buffer } | undefined>((resolve) =>
        store.findUser(5n).subscribe(resolve),
      );
      expect(user?.secretHash).to.deep.equal(hashSecret(SECRET));
    });
  });

  it('passes on announcements from the operator', () => {
    const bob = chatWorld().join(2n);
    expect(settle(bob.hear({ announce: 'hello all' })).replies).to.deep.equal([
      { from: '0', to: '0', msg: 'hello all' },
    ]);
  });
});
