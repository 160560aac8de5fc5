import { expect } from 'chai';
import Long from 'long';
import { lastValueFrom, NEVER, of, ReplaySubject, toArray } from 'rxjs';
import { ClientPlan, LoadPlan } from '../../src/loadtest/client-plan';
import { LatencyHistogram } from '../../src/loadtest/latency-histogram';
import { loadClient, LoadClientEvent } from '../../src/loadtest/load-client';
import { chatMessageCodec, frameCodec, serverFrameCodec } from '../../src/protocol/chat-codec';
import { ChatMessage } from '../../src/protocol/messages';
import { SocketTransport } from '../../src/transport/socket-transport';
import { FakeSocket } from '../support/fake-socket';
import { body, welcome } from './server-frames';

const handshake = (id: number, error = false) =>
  Buffer.from(serverFrameCodec().encode([{ handshake: { id: Long.fromInt(id), error } }]));

/** What the client has sent that the fake server has not yet answered. */
function sentMessages(socket: FakeSocket, decoder = chatMessageCodec().decoder()) {
  const messages: ChatMessage[] = socket.written.flatMap((chunk) => decoder.push(chunk));
  socket.written.length = 0;
  return messages;
}

const echoing = (sends: LoadPlan): ClientPlan => ({ kind: 'echo', sends });

function start(plan: ClientPlan = echoing({ messages: 5, window: 2, size: 4 })) {
  const socket = new FakeSocket();
  const release$ = new ReplaySubject<void>(1);
  const latencies = new LatencyHistogram();
  let now = 0;
  const events = lastValueFrom(
    loadClient(
      () => of(new SocketTransport(socket)),
      plan,
      { start$: of(undefined), release$ },
      latencies,
      () => now++,
    ).pipe(toArray()),
  );
  return { socket, release$, latencies, events };
}

const count = (events: LoadClientEvent[], type: LoadClientEvent['type']) =>
  events.filter((event) => event.type === type).length;

describe('loadClient', () => {
  it('sends its messages with at most `window` in flight, checks each echo, and closes when released', async () => {
    const { socket, release$, latencies, events } = start();
    socket.receive(handshake(4));
    const codec = chatMessageCodec();
    for (let rounds = 0; rounds < 10; rounds++) {
      const sent = sentMessages(socket);
      if (sent.length === 0) break;
      expect(sent.length).to.be.at.most(2);
      socket.receive(codec.encode(sent)); // a faithful echo
    }
    release$.next();
    expect(socket.ended).to.equal(true);
    socket.peerEnds(); // the server closes its side too: only then is the client done
    const all = await events;
    expect(count(all, 'ready')).to.equal(1);
    expect(count(all, 'finished')).to.equal(1);
    expect(
      all.flatMap((event) => (event.type === 'checked' ? event.mismatches : [])),
    ).to.deep.equal([]);
    expect(latencies.count).to.equal(5);
    expect(count(all, 'failed')).to.equal(0);
  });

  it('reports an echo that is not the message it answers', async () => {
    const { socket, release$, events } = start(echoing({ messages: 1, window: 1, size: 4 }));
    socket.receive(handshake(4));
    const [sent] = sentMessages(socket);
    socket.receive(chatMessageCodec().encode([{ ...(sent as ChatMessage), msg: 'oops' }]));
    release$.next();
    socket.peerEnds();
    const mismatches = (await events).flatMap((event) =>
      event.type === 'checked' ? event.mismatches : [],
    );
    expect(mismatches).to.deep.equal(['echo 0 is {"from":"4","to":"4","msg":"oops"}, not "...0"']);
  });

  it('accepts an echo in another encoding with the same fields', async () => {
    const { socket, release$, events } = start(echoing({ messages: 1, window: 1, size: 2 }));
    socket.receive(handshake(1));
    sentMessages(socket);
    // from 1, to 1, msg ".0", with `to` written before `from` and `from` as a two-byte varint
    socket.receive(Buffer.from('09' + '1001' + '088100' + '1a022e30', 'hex'));
    release$.next();
    socket.peerEnds();
    expect(
      (await events).flatMap((event) => (event.type === 'checked' ? event.mismatches : [])),
    ).to.deep.equal([]);
  });

  it('says it failed, and why, when the server refuses it or closes before every echo is in', async () => {
    const failure = async (events: Promise<LoadClientEvent[]>) => (await events).at(-1);

    const refused = start();
    refused.socket.receive(handshake(0, true));
    expect(await failure(refused.events)).to.deep.equal({
      type: 'failed',
      reason: 'server refused the connection',
      greeted: false,
    });

    const cut = start();
    cut.socket.receive(handshake(2));
    cut.socket.peerEnds();
    expect(await failure(cut.events)).to.deep.equal({
      type: 'failed',
      reason: 'the server closed the connection after 0 of 5 echoes',
      greeted: true,
    });
  });

  it('with no messages to send, is finished as soon as it starts', async () => {
    const socket = new FakeSocket();
    const events = lastValueFrom(
      loadClient(
        () => of(new SocketTransport(socket)),
        echoing({ messages: 0, window: 1, size: 1 }),
        { start$: of(undefined), release$: of(undefined) },
        new LatencyHistogram(),
        () => 0,
      ).pipe(toArray()),
    );
    socket.receive(handshake(1));
    socket.peerEnds();
    expect((await events).map((event) => event.type)).to.deep.equal(['ready', 'finished']);
  });

  it('with direct messages, says hello and is ready only once welcomed', () => {
    const socket = new FakeSocket();
    const seen: LoadClientEvent['type'][] = [];
    const subscription = loadClient(
      () => of(new SocketTransport(socket)),
      { kind: 'direct', greeting: { kind: 'new-user' } },
      { start$: NEVER, release$: NEVER },
      new LatencyHistogram(),
      () => 0,
    ).subscribe((event) => seen.push(event.type));
    socket.receive(handshake(3));
    const [hello] = sentMessages(socket);
    expect(hello?.hello).to.be.an('object');
    expect(seen).to.deep.equal([]);
    socket.receive(frameCodec().encode([body(welcome(3, 'NEW_USER'))]));
    expect(seen).to.deep.equal(['checked', 'ready']);
    subscription.unsubscribe();
  });

  it('fails, and says why, when it cannot start: its partner never had its handshake', async () => {
    const { socket, events } = start({
      kind: 'direct',
      greeting: { kind: 'new-user' },
      sends: {
        plan: { messages: 1, window: 1, size: 1 },
        to: () => {
          throw new Error('client 1 has no id: it never had its handshake');
        },
        receipts: [],
      },
    });
    socket.receive(handshake(3));
    socket.receive(frameCodec().encode([body(welcome(3, 'NEW_USER'))]));
    expect((await events).filter((event) => event.type !== 'checked')).to.deep.equal([
      { type: 'ready' },
      { type: 'failed', reason: 'client 1 has no id: it never had its handshake', greeted: true },
    ]);
  });
});
