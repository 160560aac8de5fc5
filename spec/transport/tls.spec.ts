import { expect } from 'chai';
import { EventEmitter, once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import {
  AddressInfo,
  connect as netConnect,
  createServer as createNetServer,
  Socket,
} from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, lastValueFrom, Observable, Subscription, toArray } from 'rxjs';
import { ListenerEvent } from '../../src/transport/tcp';
import { connectTls, listenTls, TlsCredentials, TlsError } from '../../src/transport/tls';
import { Transport } from '../../src/transport/transport';
import { CertificatePair, makeCertificate, missingOpenssl } from '../support/certificates';

type EventOf<Type extends ListenerEvent['type']> = Extract<ListenerEvent, { type: Type }>;

/** A listener, subscribed: every event it emitted, and a way to wait for the next ones. */
class Listening {
  readonly events: ListenerEvent[] = [];
  private readonly subscription: Subscription;
  private readonly arrived = new EventEmitter();

  constructor(listener$: Observable<ListenerEvent>) {
    this.subscription = listener$.subscribe({
      next: (event) => {
        this.events.push(event);
        this.arrived.emit('event');
      },
      error: (error: unknown) => this.arrived.emit('error', error),
    });
  }

  of<Type extends ListenerEvent['type']>(type: Type): EventOf<Type>[] {
    return this.events.filter((event): event is EventOf<Type> => event.type === type);
  }

  /** The `count`-th event of `type` (the first by default), once it has come. */
  async nth<Type extends ListenerEvent['type']>(type: Type, count = 1): Promise<EventOf<Type>> {
    for (;;) {
      const found = this.of(type)[count - 1];
      if (found) return found;
      await once(this.arrived, 'event');
    }
  }

  async port(): Promise<number> {
    const { address } = await this.nth('listening');
    return Number(/:(\d+)$/.exec(address)?.[1]);
  }

  stop(): void {
    this.subscription.unsubscribe();
  }
}

function bytesOf(transport: Transport): Promise<string> {
  return lastValueFrom(transport.chunks.pipe(toArray())).then((chunks) =>
    Buffer.concat(chunks).toString(),
  );
}

/** A plain TCP connection, and its address as the server sees it. */
async function plainSocket(port: number): Promise<{ socket: Socket; address: string }> {
  const socket = netConnect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  return { socket, address: `127.0.0.1:${socket.localPort}` };
}

describe('TLS transport (listenTls, connectTls)', function () {
  this.timeout(10_000);
  let directory = '';
  let server: CertificatePair;
  let other: CertificatePair;
  let noAltNames: CertificatePair;
  let credentials: TlsCredentials;
  const running: { stop(): void }[] = [];

  function listening(options: Partial<TlsCredentials> = {}): Listening {
    const started = new Listening(listenTls('127.0.0.1', 0, { ...credentials, ...options }));
    running.push(started);
    return started;
  }

  before(function () {
    const missing = missingOpenssl();
    if (missing !== undefined) {
      console.log(`  (skipped: ${missing}; apt-get install openssl)`);
      this.skip();
    }
    directory = mkdtempSync(join(tmpdir(), 'chat-tls-'));
    server = makeCertificate(directory, 'server');
    other = makeCertificate(directory, 'other', 'other', 'DNS:other');
    noAltNames = makeCertificate(directory, 'bare', 'example.invalid', '');
    credentials = { cert: server.cert, key: server.key };
  });

  after(() => {
    if (directory !== '') rmSync(directory, { recursive: true, force: true });
  });

  afterEach(() => {
    for (const started of running.splice(0)) started.stop();
  });

  it('emits a connection once the handshake is done, served both ways, half-open like TCP', async () => {
    const listener = listening();
    const port = await listener.port();
    const client = await firstValueFrom(connectTls('127.0.0.1', port, { ca: server.cert }));
    const { transport } = await listener.nth('connection');

    const serverRead = bytesOf(transport);
    const clientRead = bytesOf(client);
    client.write(Buffer.from('hello '));
    client.write(Buffer.from('server'));
    client.end(); // the client's side ends; it still reads what the server sends
    expect(await serverRead).to.equal('hello server');
    transport.write(Buffer.from('goodbye'));
    transport.end();
    expect(await clientRead).to.equal('goodbye');
    await firstValueFrom(transport.closed);
    expect(transport.remoteAddress).to.match(/^127\.0\.0\.1:\d+$/);
    expect(listener.of('tls-handshake-failed')).to.deep.equal([]);
  });

  it('verifies the host name: localhost and 127.0.0.1 are in the certificate, other names are not', async () => {
    const port = await listening().port();
    const byName = await firstValueFrom(connectTls('localhost', port, { ca: server.cert }));
    byName.destroy();
    const elsewhere = listening({ cert: noAltNames.cert, key: noAltNames.key });
    const error: unknown = await firstValueFrom(
      connectTls('127.0.0.1', await elsewhere.port(), { ca: noAltNames.cert }),
    ).catch((failure: unknown) => failure);
    expect(error).to.be.instanceOf(TlsError);
    expect((error as Error).message).to.match(
      /^the server's certificate is not trusted: .*127\.0\.0\.1.*\(ERR_TLS_CERT_ALTNAME_INVALID\)$/,
    );
  });

  it('refuses a server whose certificate the CA did not sign, in one line; the server tells its failure and serves on', async () => {
    const listener = listening();
    const port = await listener.port();
    const error: unknown = await firstValueFrom(
      connectTls('127.0.0.1', port, { ca: other.cert }),
    ).catch((failure: unknown) => failure);
    expect(error).to.be.instanceOf(TlsError);
    expect((error as Error).message).to.equal(
      "the server's certificate is not trusted: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)",
    );
    const failed = await listener.nth('tls-handshake-failed');
    expect(failed.remoteAddress).to.match(/^127\.0\.0\.1:\d+$/);
    expect(listener.of('connection')).to.deep.equal([]);

    const trusting = await firstValueFrom(connectTls('127.0.0.1', port, { ca: server.cert }));
    await listener.nth('connection');
    trusting.destroy();
  });

  it('takes any certificate when told not to verify (the load tester without --ca)', async () => {
    const listener = listening({ cert: noAltNames.cert, key: noAltNames.key });
    const port = await listener.port();
    const client = await firstValueFrom(connectTls('127.0.0.1', port, { verify: false }));
    await listener.nth('connection');
    client.destroy();
  });

  it('closes a plain TCP client, with one failure event from its address, and serves on', async () => {
    const listener = listening();
    const port = await listener.port();
    const { socket: plain, address } = await plainSocket(port);
    plain.write(Buffer.from('0a0568656c6c6f', 'hex')); // a chat frame, not TLS
    await once(plain, 'close');
    const failed = await listener.nth('tls-handshake-failed');
    expect(failed).to.deep.equal({
      type: 'tls-handshake-failed',
      remoteAddress: address,
      reason: 'wrong version number',
    });

    const client = await firstValueFrom(connectTls('127.0.0.1', port, { ca: server.cert }));
    await listener.nth('connection');
    client.destroy();
    expect(listener.of('tls-handshake-failed')).to.have.length(1);
  });

  it('closes a client that says nothing within the handshake timeout', async () => {
    const listener = listening({ handshakeTimeoutMs: 100 });
    const { socket: silent, address } = await plainSocket(await listener.port());
    await once(silent, 'close');
    const failed = await listener.nth('tls-handshake-failed');
    expect(failed.remoteAddress).to.equal(address);
    expect(failed.reason).to.equal('no handshake within 100 ms');
  });

  it('tells a client that goes away during the handshake at once', async () => {
    const listener = listening();
    const { socket: gone, address } = await plainSocket(await listener.port());
    gone.end();
    const failed = await listener.nth('tls-handshake-failed');
    expect(failed.remoteAddress).to.equal(address);
    expect(failed.reason).to.equal('the connection closed during the handshake');
  });

  it('cuts off handshakes under way when unsubscribed; accepted connections live on', async () => {
    const listener = listening();
    const port = await listener.port();
    const { socket: silent } = await plainSocket(port);
    // Accepted after the silent one, so the silent one has been accepted too.
    const client = await firstValueFrom(connectTls('127.0.0.1', port, { ca: server.cert }));
    const { transport } = await listener.nth('connection');
    listener.stop();
    await once(silent, 'close');

    const serverRead = bytesOf(transport);
    client.write(Buffer.from('still here'));
    client.end();
    expect(await serverRead).to.equal('still here');
    transport.end();
    await firstValueFrom(client.closed);
  });

  it('says a server that does not speak TLS in one line', async () => {
    const plainServer = createNetServer((socket) =>
      socket.end(Buffer.from('0a0568656c6c6f', 'hex')),
    );
    plainServer.listen(0, '127.0.0.1');
    await once(plainServer, 'listening');
    const { port } = plainServer.address() as AddressInfo;
    const error: unknown = await firstValueFrom(connectTls('127.0.0.1', port)).catch(
      (failure: unknown) => failure,
    );
    plainServer.close();
    expect(error).to.be.instanceOf(TlsError);
    expect((error as Error).message).to.match(
      /^TLS handshake failed \([a-z ]+\): is the server serving TLS\?$/,
    );
  });

  it('errors when it cannot listen', async () => {
    const first = listening();
    const port = await first.port();
    const error: unknown = await firstValueFrom(listenTls('127.0.0.1', port, credentials)).catch(
      (failure: unknown) => failure,
    );
    expect(error).to.have.property('code', 'EADDRINUSE');
  });
});
