import { expect } from 'chai';
import { lastValueFrom, Subject, toArray } from 'rxjs';
import { ChatSignal } from '../../src/chat/chat-session';
import { ConnectionEvent, serveConnection } from '../../src/server/connection';
import { chatService } from '../../src/server/chat-service';
import { Answer, Service, Signal } from '../../src/server/service';
import { SignalHub } from '../../src/server/signal-hub';
import { TrafficCounter } from '../../src/server/traffic';
import { lineCodec } from '../../src/protocol/line-codec';
import { SocketTransport } from '../../src/transport/socket-transport';
import { FakeSocket } from '../support/fake-socket';
import { chat, clientBytes, serverFramesIn } from '../support/frames';
import { immediateStore } from '../support/stores';

function serve<In, Out, Extra>(
  service: Service<In, Out, Extra>,
  hub = new SignalHub<Signal<Extra>>(),
) {
  const socket = new FakeSocket();
  const transport = new SocketTransport(socket, { closeGraceMs: 1000, maxQueuedBytes: 1 << 20 });
  const traffic = new TrafficCounter();
  const events = lastValueFrom(
    serveConnection(transport, service, 7n, { hub, traffic, acceptedAt: 0 }).pipe(toArray()),
  );
  return { socket, events, traffic, hub };
}

function connect(hub = new SignalHub<Signal<ChatSignal>>()) {
  return serve(chatService({ store: immediateStore(), maxFrameBytes: 100 }), hub);
}

function closedReason(events: ConnectionEvent[]): string | undefined {
  const last = events.at(-1);
  return last?.type === 'disconnected' ? last.reason : undefined;
}

describe('serveConnection', () => {
  it('greets with the handshake, then answers each chunk with one write, counting the frames', async () => {
    const { socket, events, traffic } = connect();
    expect(serverFramesIn(socket.bytesWritten())).to.deep.equal([{ handshake: '7' }]);
    socket.receive(clientBytes(chat(1, 0, 'a'), chat(1, 7, 'b'), chat(1, -4, 'c')));
    expect(socket.written).to.have.length(2);
    expect(serverFramesIn(socket.bytesWritten()).slice(1)).to.deep.equal([
      { from: '7', to: '0', msg: 'a' },
      { from: '7', to: '7', msg: 'b' },
      { from: '7', to: '-4', msg: 'c' },
    ]);
    expect(traffic).to.include({ framesIn: 3, framesOut: 4 });
    socket.peerEnds();
    const [connected, ...rest] = await events;
    expect(connected).to.include({ type: 'connected', id: 7n, remoteAddress: '10.0.0.1:5555' });
    expect(rest).to.deep.equal([
      {
        type: 'disconnected',
        id: 7n,
        connection: 7n,
        remoteAddress: '10.0.0.1:5555',
        reason: 'client closed the connection',
      },
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

  it('sends what the server signals, after the handshake', async () => {
    const { socket, events, hub } = connect();
    hub.send(7n, { announce: 'hello all' });
    expect(serverFramesIn(socket.bytesWritten())).to.deep.equal([
      { handshake: '7' },
      { from: '0', to: '0', msg: 'hello all' },
    ]);
    socket.peerEnds();
    await events;
  });

  it('ends gracefully when stopped, with the reason it was given', async () => {
    const { socket, events, hub } = connect();
    hub.send(7n, { stop: 'kicked' });
    expect(socket.ended).to.equal(true);
    expect(socket.destroyed).to.equal(false);
    socket.peerEnds();
    expect(closedReason(await events)).to.equal('kicked by the operator');
  });

  it('destroys the socket when unsubscribed, and no longer listens for its user', () => {
    const socket = new FakeSocket();
    const transport = new SocketTransport(socket);
    const hub = new SignalHub<Signal<ChatSignal>>();
    const serving = serveConnection(transport, chatService({ store: immediateStore() }), 1n, {
      hub,
      traffic: new TrafficCounter(),
      acceptedAt: 0,
    }).subscribe();
    expect(hub.isOnline(1n)).to.equal(true);
    serving.unsubscribe();
    expect(socket.destroyed).to.equal(true);
    expect(hub.isOnline(1n)).to.equal(false);
  });

  it('answers one thing at a time: what arrives while work is outstanding waits, in order, then goes in one write', async () => {
    const work = new Subject<Answer<string>>();
    const answered: string[][] = [];
    const service: Service<string, string> = {
      incoming: lineCodec(),
      outgoing: lineCodec(),
      refusal: [],
      session: () => ({
        greet: () => ({ replies: [] }),
        answer: (batch) => {
          answered.push([...batch]);
          return batch.includes('slow') ? { replies: [], then: work } : { replies: batch };
        },
        hear: (signal) => ({ replies: 'announce' in signal ? [signal.announce] : [] }),
      }),
    };
    const { socket, events, hub } = serve(service);
    socket.receive('slow\n');
    socket.receive('a\n');
    hub.send(7n, { announce: 'news' });
    socket.receive('b\n');
    socket.receive('c\n');
    expect(socket.bytesWritten().toString()).to.equal('');
    work.next({ replies: ['done slow'] });
    expect(socket.bytesWritten().toString()).to.equal('done slow\na\nnews\nb\nc\n');
    expect(socket.written, 'what was held is written at once').to.have.length(1);
    expect(answered).to.deep.equal([['slow'], ['a'], ['b', 'c']]);
    expect(work.observed, 'the work is unsubscribed once it has answered').to.equal(false);
    socket.peerEnds();
    await events;
  });

  it('does not wait for outstanding work to stop, and leaves nothing subscribed', async () => {
    const work = new Subject<Answer<string>>();
    const service: Service<string, string> = {
      incoming: lineCodec(),
      outgoing: lineCodec(),
      refusal: [],
      session: () => ({
        greet: () => ({ replies: [], then: work }),
        answer: (batch) => ({ replies: batch }),
        hear: () => ({ replies: ['bye'], close: 'kicked by the operator' }),
      }),
    };
    const { socket, events, hub } = serve(service);
    hub.send(7n, { stop: 'kicked' });
    expect(socket.bytesWritten().toString()).to.equal('bye\n');
    expect(socket.ended).to.equal(true);
    socket.peerEnds();
    expect(closedReason(await events)).to.equal('kicked by the operator');
    expect(work.observed).to.equal(false);
    expect(hub.isOnline(7n)).to.equal(false);
  });
});
