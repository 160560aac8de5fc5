import { expect } from 'chai';
import { once } from 'node:events';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { SocketTransport } from '../../src/transport/socket-transport';
import { TransportError } from '../../src/transport/transport';
import { FakeSocket } from '../support/fake-socket';

function transportOn(socket: FakeSocket, options = { closeGraceMs: 1000, maxQueuedBytes: 100 }) {
  return new SocketTransport(socket, options);
}

describe('SocketTransport', () => {
  it('passes chunks on and completes when the peer ends its side', async () => {
    const socket = new FakeSocket();
    const transport = transportOn(socket);
    const chunks = lastValueFrom(transport.chunks.pipe(toArray()));
    socket.receive('ab');
    socket.receive('c');
    socket.peerEnds();
    expect((await chunks).map(String)).to.deep.equal(['ab', 'c']);
  });

  it('fails the chunks on a reset, which brings an error and a close but no end', async () => {
    const socket = new FakeSocket();
    const transport = transportOn(socket);
    const chunks = lastValueFrom(transport.chunks);
    socket.reset();
    const error: unknown = await chunks.catch((failure: unknown) => failure);
    expect(error).to.have.property('code', 'ECONNRESET');
    await firstValueFrom(transport.closed);
  });

  it('hears an error that comes before anyone reads, so it never goes unhandled', async () => {
    const socket = new FakeSocket();
    const transport = transportOn(socket);
    socket.reset();
    const error: unknown = await lastValueFrom(transport.chunks).catch(
      (failure: unknown) => failure,
    );
    expect(error).to.have.property('code', 'ECONNRESET');
  });

  it('removes every listener it added, exactly, when the socket closes', async () => {
    const socket = new FakeSocket();
    const transport = transportOn(socket);
    const reading = transport.chunks.subscribe();
    transport.write(Buffer.from('x'));
    socket.acceptsWrites = false;
    transport.write(Buffer.from('y')); // waits for drain: one more listener
    expect(socket.listenerTotal()).to.equal(5);
    socket.peerEnds();
    transport.end();
    await firstValueFrom(transport.closed);
    expect(socket.listenerTotal()).to.equal(0);
    expect(reading.closed).to.equal(true);
  });

  it('stops reading from a peer that does not read what it is sent, until it drains', () => {
    const socket = new FakeSocket();
    const transport = transportOn(socket);
    const received: string[] = [];
    transport.chunks.subscribe((chunk) => received.push(String(chunk)));
    socket.acceptsWrites = false;
    transport.write(Buffer.from('reply'));
    expect(socket.paused).to.equal(true);
    socket.receive('held back');
    expect(received).to.deep.equal([]);
    socket.drain();
    expect(socket.paused).to.equal(false);
    expect(received).to.deep.equal(['held back']);
  });

  it('cuts off a peer with more queued for it than the limit, as a slow consumer', async () => {
    const socket = new FakeSocket();
    const transport = transportOn(socket, { closeGraceMs: 1000, maxQueuedBytes: 10 });
    const chunks = lastValueFrom(transport.chunks);
    socket.acceptsWrites = false;
    transport.write(Buffer.alloc(6));
    expect(socket.destroyed).to.equal(false);
    transport.write(Buffer.alloc(6));
    const error: unknown = await chunks.catch((failure: unknown) => failure);
    expect(error).to.be.instanceOf(TransportError).with.property('code', 'SLOW_CONSUMER');
    expect(socket.destroyed).to.equal(true);
  });

  it('ends gracefully, and destroys a socket whose peer never finishes closing', async () => {
    const socket = new FakeSocket();
    const transport = transportOn(socket, { closeGraceMs: 5, maxQueuedBytes: 100 });
    transport.end();
    expect(socket.ended).to.equal(true);
    expect(socket.destroyed).to.equal(false);
    await once(socket, 'close');
    expect(socket.destroyed).to.equal(true);
  });

  it('writes nothing once it is ending or destroyed', () => {
    const socket = new FakeSocket();
    const transport = transportOn(socket);
    transport.end();
    transport.write(Buffer.from('late'));
    transport.destroy();
    transport.write(Buffer.from('later'));
    expect(socket.written).to.deep.equal([]);
  });

  it('lets a reader that unsubscribed go: what comes next is dropped, or read by a new reader', () => {
    const socket = new FakeSocket();
    const transport = transportOn(socket);
    const first: string[] = [];
    transport.chunks.subscribe((chunk) => first.push(String(chunk))).unsubscribe();
    socket.receive('dropped');
    expect(socket.listenerCount('data')).to.equal(0);
    expect(socket.paused).to.equal(false);
    transport.chunks.subscribe().unsubscribe();
    const second: string[] = [];
    transport.chunks.subscribe((chunk) => second.push(String(chunk)));
    socket.receive('read');
    expect(first).to.deep.equal([]);
    expect(second).to.deep.equal(['read']);
    expect(socket.listenerCount('data')).to.equal(1);
  });

  it('is read by one subscriber only', async () => {
    const transport = transportOn(new FakeSocket());
    transport.chunks.subscribe();
    const error: unknown = await lastValueFrom(transport.chunks).catch(
      (failure: unknown) => failure,
    );
    expect(error).to.have.property('message', 'a transport is read by one subscriber');
  });
});
