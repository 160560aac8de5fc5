import { expect } from 'chai';
import { lastValueFrom, NEVER, Observable, Subject, toArray } from 'rxjs';
import { ConnectionEvent, ConnectionSignal, serveConnection } from '../../src/server/connection';
import { chatService } from '../../src/server/chat-service';
import { TrafficCounter } from '../../src/server/traffic';
import { ServerFrame } from '../../src/protocol/messages';
import { SocketTransport } from '../../src/transport/socket-transport';
import { FakeSocket } from '../support/fake-socket';
import { chat, clientBytes, serverFramesIn } from '../support/frames';

function connect(signal$: Observable<ConnectionSignal<ServerFrame>> = NEVER) {
  const socket = new FakeSocket();
  const transport = new SocketTransport(socket, { closeGraceMs: 1000, maxQueuedBytes: 1 << 20 });
  const traffic = new TrafficCounter();
  const events = lastValueFrom(
    serveConnection(transport, chatService(100), 7n, { signal$, traffic, acceptedAt: 0 }).pipe(
      toArray(),
    ),
  );
  return { socket, events, traffic };
}

function closedReason(events: ConnectionEvent[]): string | undefined {
  const last = events.at(-1);
  return last?.type === 'disconnected' ? last.reason : undefined;
}

describe('serveConnection', () => {
  it('greets with the handshake, then answers each chunk with one write, counting the frames', async () => {
    const { socket, events, traffic } = connect();
    expect(serverFramesIn(socket.bytesWritten())).to.deep.equal([{ handshake: '7' }]);
    socket.receive(clientBytes(chat(1, 2, 'a'), chat(1, 3, 'b'), chat(1, 4, 'c')));
    expect(socket.written).to.have.length(2);
    expect(serverFramesIn(socket.bytesWritten()).slice(1)).to.deep.equal([
      { from: '7', to: '2', msg: 'a' },
      { from: '7', to: '3', msg: 'b' },
      { from: '7', to: '4', msg: 'c' },
    ]);
    expect(traffic).to.include({ framesIn: 3, framesOut: 4 });
    socket.peerEnds();
    const [connected, ...rest] = await events;
    expect(connected).to.include({ type: 'connected', id: 7n, remoteAddress: '10.0.0.1:5555' });
    expect(rest).to.deep.equal([
      { type: 'disconnected', id: 7n, reason: 'client closed the connection' },
    ]);
    expect(socket.listenerTotal()).to.equal(0);
  });

  it('closes on a protocol error, reports it, and leaves no listener behind', async () => {
    const { socket, events } = connect();
    socket.receive(Buffer.from('e807', 'hex')); // a 1000-byte frame: over the limit at its first byte
    const all = await events;
    expect(all).to.deep.include({
      type: 'protocol-error',
      id: 7n,
      message: 'frame of more than 104 bytes is over the limit of 100 bytes',
    });
    expect(closedReason(all)).to.equal(
      'protocol error: frame of more than 104 bytes is over the limit of 100 bytes',
    );
    expect(socket.destroyed).to.equal(true);
    expect(socket.listenerTotal()).to.equal(0);
  });

  it('treats a clean end inside a frame as a protocol error', async () => {
    const { socket, events } = connect();
    socket.receive(Buffer.from('05aa', 'hex'));
    socket.peerEnds();
    expect(closedReason(await events)).to.equal(
      'protocol error: the stream ended inside a frame (1 of 5 bytes)',
    );
  });

  it('reports a reset in the middle of a frame', async () => {
    const { socket, events } = connect();
    socket.receive(Buffer.from('05aa', 'hex'));
    socket.reset();
    expect(closedReason(await events)).to.equal('connection reset by the client');
  });

  it('sends what the server pushes, after the handshake', async () => {
    const signal$ = new Subject<ConnectionSignal<ServerFrame>>();
    const { socket, events } = connect(signal$);
    signal$.next({ push: [{ chat: chat(0, 0, 'hello all') }] });
    expect(serverFramesIn(socket.bytesWritten())).to.deep.equal([
      { handshake: '7' },
      { from: '0', to: '0', msg: 'hello all' },
    ]);
    socket.peerEnds();
    await events;
  });

  it('ends gracefully when stopped, with the reason it was given', async () => {
    const signal$ = new Subject<ConnectionSignal<ServerFrame>>();
    const { socket, events } = connect(signal$);
    signal$.next({ stop: 'kicked by the operator' });
    expect(socket.ended).to.equal(true);
    expect(socket.destroyed).to.equal(false);
    socket.peerEnds();
    expect(closedReason(await events)).to.equal('kicked by the operator');
  });

  it('destroys the socket when unsubscribed', () => {
    const socket = new FakeSocket();
    const transport = new SocketTransport(socket);
    serveConnection(transport, chatService(), 1n, {
      signal$: NEVER,
      traffic: new TrafficCounter(),
      acceptedAt: 0,
    })
      .subscribe()
      .unsubscribe();
    expect(socket.destroyed).to.equal(true);
  });
});
