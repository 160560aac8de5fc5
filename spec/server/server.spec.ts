import { expect } from 'chai';
import {
  filter,
  firstValueFrom,
  lastValueFrom,
  Observable,
  ReplaySubject,
  Subject,
  toArray,
} from 'rxjs';
import { chatService } from '../../src/server/chat-service';
import { runServer, ServerUpdate } from '../../src/server/server';
import { logLine, ServerControl, ServerEvent } from '../../src/server/server-events';
import { ListenerEvent } from '../../src/transport/tcp';
import { SocketTransport } from '../../src/transport/socket-transport';
import { FakeSocket } from '../support/fake-socket';
import { chat, clientBytes, hello, secretIn, serverFramesIn } from '../support/frames';
import { immediateStore } from '../support/stores';

/** A server on fake sockets: `connect()` plays a client arriving. */
function fakeServer(maxClients = 100) {
  const listener$ = new Subject<ListenerEvent>();
  const controls = new Subject<ServerControl>();
  const updates = new ReplaySubject<ServerUpdate>();
  let listening = false;
  const listenerWatch = new Observable<ListenerEvent>((subscriber) => {
    listening = true;
    const subscription = listener$.subscribe(subscriber);
    return () => {
      listening = false;
      subscription.unsubscribe();
    };
  });
  const service = chatService({ store: immediateStore(), maxFrameBytes: 100 });
  runServer(listenerWatch, controls, service, { maxClients }, () => 0).subscribe(updates);
  return {
    listener$,
    controls,
    updates,
    isListening: () => listening,
    connect() {
      const socket = new FakeSocket();
      listener$.next({ type: 'connection', transport: new SocketTransport(socket) });
      return socket;
    },
    latest: () => {
      let last: ServerUpdate | undefined;
      updates.subscribe((update) => (last = update)).unsubscribe();
      return last;
    },
    event: (predicate: (event: ServerEvent) => boolean) =>
      firstValueFrom(updates.pipe(filter((update) => predicate(update.event)))),
  };
}

const disconnectOf = (id: bigint) => (event: ServerEvent) =>
  event.type === 'disconnected' && event.id === id;

describe('runServer', () => {
  it('logs a failed TLS handshake from the listener as it is, with nobody connected or refused', () => {
    const server = fakeServer();
    const failed = { remoteAddress: '127.0.0.1:5555', reason: 'wrong version number' } as const;
    server.listener$.next({ type: 'tls-handshake-failed', ...failed });
    const update = server.latest();
    expect(update?.event).to.deep.equal({ type: 'tls-handshake-failed', ...failed });
    expect(logLine(update?.event ?? { type: 'shutting-down' })).to.equal(
      'TLS handshake failed from 127.0.0.1:5555: wrong version number',
    );
    expect(update?.state.stats).to.include({ usersNow: 0, totalConnections: 0, refused: 0 });
  });

  it('gives each connection the next id, handshake first, and echoes each independently', () => {
    const server = fakeServer();
    const [a, b, c] = [server.connect(), server.connect(), server.connect()];
    b.receive(clientBytes(chat(0, 0, 'from b')));
    expect(serverFramesIn(a.bytesWritten())).to.deep.equal([{ handshake: '1' }]);
    expect(serverFramesIn(b.bytesWritten())).to.deep.equal([
      { handshake: '2' },
      { from: '2', to: '0', msg: 'from b' },
    ]);
    expect(serverFramesIn(c.bytesWritten())).to.deep.equal([{ handshake: '3' }]);
    expect(server.latest()?.state.stats.usersNow).to.equal(3);
  });

  it('carries a direct message from one connection to another', () => {
    const server = fakeServer();
    const [a, b] = [server.connect(), server.connect()];
    b.receive(clientBytes(hello(), chat(0, 1, 'from b')));
    expect(serverFramesIn(b.bytesWritten()).at(-1)).to.deep.equal({
      from: '2',
      to: '1',
      msg: 'from b',
      receipt: 'DELIVERED',
    });
    expect(serverFramesIn(a.bytesWritten()).at(-1)).to.deep.equal({
      from: '2',
      to: '1',
      msg: 'from b',
      delivery: '1',
    });
  });

  it('moves a resumed user to its new connection, which counts once, and closes the old one', async () => {
    const server = fakeServer();
    const old = server.connect();
    const secret = secretIn(old.bytesWritten());
    const fresh = server.connect();
    const takenOver = server.event(disconnectOf(1n));
    fresh.receive(clientBytes(hello(1n, secret)));
    expect(old.ended).to.equal(true);
    old.peerEnds();
    expect((await takenOver).event).to.include({ reason: 'the same user connected again' });
    const { state } = server.latest() ?? {};
    expect(state?.stats.usersNow).to.equal(1);
    expect([...(state?.users.keys() ?? [])]).to.deep.equal([1n]);
    expect(state?.users.get(1n)?.connection).to.equal(2n);
    fresh.receive(clientBytes(chat(0, 0, 'me again')));
    expect(serverFramesIn(fresh.bytesWritten()).at(-1)).to.deep.equal({
      from: '1',
      to: '0',
      msg: 'me again',
    });
  });

  it('refuses a connection over the limit with an error handshake, and does not count it', async () => {
    const server = fakeServer(1);
    const first = server.connect();
    const refused = server.connect();
    expect(serverFramesIn(refused.bytesWritten())).to.deep.equal([{ refused: true }]);
    expect(refused.ended).to.equal(true);
    expect(server.latest()?.state.stats).to.include({ usersNow: 1, refused: 1 });

    const gone = server.event(disconnectOf(1n));
    first.peerEnds();
    await gone;
    const next = server.connect();
    expect(serverFramesIn(next.bytesWritten())).to.deep.equal([{ handshake: '2' }]);
  });

  it('keeps serving everyone else when one connection breaks the protocol or resets', async () => {
    const server = fakeServer();
    const [good, bad, reset] = [server.connect(), server.connect(), server.connect()];
    bad.receive(Buffer.from('ffffffffffffffffffff01', 'hex'));
    reset.receive(Buffer.from('05aa', 'hex'));
    reset.reset();
    await server.event(disconnectOf(2n));
    await server.event(disconnectOf(3n));
    good.receive(clientBytes(chat(0, 0, 'still here')));
    expect(serverFramesIn(good.bytesWritten()).at(-1)).to.deep.equal({
      from: '1',
      to: '0',
      msg: 'still here',
    });
    expect(server.latest()?.state.stats).to.include({ usersNow: 1, protocolErrors: 1 });
  });

  it('broadcasts to every user and kicks only the one named', async () => {
    const server = fakeServer();
    const [a, b] = [server.connect(), server.connect()];
    server.controls.next({ type: 'broadcast', text: 'hello everyone' });
    for (const socket of [a, b]) {
      expect(serverFramesIn(socket.bytesWritten()).at(-1)).to.deep.equal({
        from: '0',
        to: '0',
        msg: 'hello everyone',
      });
    }
    const kicked = server.event(disconnectOf(2n));
    server.controls.next({ type: 'kick', id: 2n });
    expect(b.ended).to.equal(true);
    expect(a.ended).to.equal(false);
    b.peerEnds();
    expect((await kicked).event).to.include({ reason: 'kicked by the operator' });
  });

  it('on shutdown stops accepting, closes every connection, and completes once all are closed', async () => {
    const server = fakeServer();
    const sockets = [server.connect(), server.connect()];
    const done = lastValueFrom(server.updates.pipe(toArray()));
    server.controls.next({ type: 'shutdown' });
    expect(server.isListening()).to.equal(false);
    for (const socket of sockets) {
      expect(socket.ended).to.equal(true);
      socket.peerEnds();
    }
    const events = (await done).map((update) => update.event);
    expect(events.filter((event) => event.type === 'disconnected')).to.have.length(2);
    expect(events.at(-1)).to.include({ type: 'disconnected', reason: 'server shutting down' });
    expect((await done).at(-1)?.state.stats.usersNow).to.equal(0);
  });
});
