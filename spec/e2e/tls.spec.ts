import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chat } from '../support/frames';
import { CertificatePair, makeCertificate, missingOpenssl } from '../support/certificates';
import { CHAT_SERVER, run, start, startChatServer } from '../support/programs';
import { eachTestInTemporaryDirectory } from '../support/temporary-directory';
import { TestClient } from '../support/tcp-client';

const CLIENT = 'cli/client.js';
const LOADTEST = 'cli/loadtest.js';

const HANDSHAKE_FAILED = /^TLS handshake failed from 127\.0\.0\.1:\d+: /;

describe('the chat server over TLS', function () {
  this.timeout(30_000);
  const temporary = eachTestInTemporaryDirectory('chat-e2e-tls-');
  let pair: CertificatePair;
  let other: CertificatePair;

  before(function () {
    const missing = missingOpenssl();
    if (missing !== undefined) {
      console.log(`  (skipped: ${missing}; apt-get install openssl)`);
      this.skip();
    }
  });

  beforeEach(() => {
    pair = makeCertificate(temporary.path(), 'server');
    other = makeCertificate(temporary.path(), 'other', 'other', 'DNS:other');
  });

  const startTlsServer = (args: string[] = []) =>
    startChatServer(['--tls-cert', pair.certFile, '--tls-key', pair.keyFile, ...args]);

  const tlsClient = (port: number, args: string[] = []) => [
    '--port',
    String(port),
    '--tls',
    '--ca',
    pair.certFile,
    ...args,
  ];

  it('serves the chat over TLS: echoes, and a direct message between two clients', async () => {
    const server = await startTlsServer();
    expect(server.lines.stderr[0]).to.match(
      /^TLS with the certificate of CN=localhost \(DNS:localhost, IP Address:127\.0\.0\.1\), valid until /,
    );
    const bob = start(CLIENT, tlsClient(server.port));
    const bobId = /^connected as (\d+)$/.exec(await bob.line('stderr', /^connected as /))?.[1];
    const alice = await run(CLIENT, tlsClient(server.port, ['--to', String(bobId)]), 'hi bob\n');
    expect(alice).to.deep.include({ code: 0, stdout: ['hi bob'] });
    const aliceId = /^connected as (\d+)$/.exec(alice.stderr[0] ?? '')?.[1];
    await bob.line('stdout', new RegExp(`^${aliceId}: hi bob$`));

    const echoed = await run(CLIENT, tlsClient(server.port), 'hello\nworld\n');
    expect(echoed).to.deep.include({ code: 0, stdout: ['hello', 'world'] });
    bob.child.stdin?.end();
    expect((await bob.exited).code).to.equal(0);
    expect(server.count('stderr', HANDSHAKE_FAILED)).to.equal(0);
  });

  it('also verifies the server by its name, localhost', async () => {
    const server = await startTlsServer();
    const client = await run(CLIENT, tlsClient(server.port, ['--host', 'localhost']), 'hi\n');
    expect(client).to.deep.include({ code: 0, stdout: ['hi'] });
  });

  it('closes a plain TCP client with one log line, and serves on', async () => {
    const server = await startTlsServer();
    const plain = await TestClient.connect(server.port);
    const from = `127.0.0.1:${plain.socket.localPort}`;
    plain.send(chat(0, 0, 'hello in the clear'));
    await plain.closed;
    expect(plain.frames).to.deep.equal([]);
    const logged = await server.line('stderr', HANDSHAKE_FAILED);
    expect(logged).to.equal(`TLS handshake failed from ${from}: wrong version number`);

    const client = await run(CLIENT, tlsClient(server.port), 'still serving\n');
    expect(client).to.deep.include({ code: 0, stdout: ['still serving'] });
    expect(server.count('stderr', HANDSHAKE_FAILED)).to.equal(1);
    expect(await server.answer('num_users', /connected/)).to.equal('0 users connected');
  });

  it('fails a client that does not trust the certificate in one line, exit 1', async () => {
    const server = await startTlsServer();
    const client = await run(CLIENT, [
      '--port',
      String(server.port),
      '--tls',
      '--ca',
      other.certFile,
    ]);
    expect(client.code).to.equal(1);
    expect(client.stdout).to.deep.equal([]);
    expect(client.stderr).to.deep.equal([
      `cannot connect to 127.0.0.1:${server.port}: the server's certificate is not trusted: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)`,
    ]);
    await server.line('stderr', HANDSHAKE_FAILED);

    const trusting = await run(CLIENT, tlsClient(server.port), 'hi\n');
    expect(trusting).to.deep.include({ code: 0, stdout: ['hi'] });
  });

  it('fails a --tls client against a plain TCP server in one line, exit 1', async () => {
    const server = await startChatServer();
    const client = await run(CLIENT, tlsClient(server.port));
    expect(client.code).to.equal(1);
    expect(client.stderr).to.have.length(1);
    expect(client.stderr[0]).to.match(
      /^cannot connect to 127\.0\.0\.1:\d+: TLS handshake failed \(.+\): is the server serving TLS\?$/,
    );
  });

  it('runs the load tester over TLS, with --ca or, a test tool, without verifying', async () => {
    const server = await startTlsServer();
    const load = ['--port', String(server.port), '--clients', '4', '--messages', '50', '--json'];
    for (const args of [['--tls'], ['--tls', '--ca', pair.certFile]]) {
      const result = await run(LOADTEST, [...load, ...args]);
      expect(result.code, result.stderr.join('\n')).to.equal(0);
      expect(JSON.parse(result.stdout[0] ?? '{}')).to.include({ errors: 0 });
    }
    const untrusting = await run(LOADTEST, [...load, '--tls', '--ca', other.certFile]);
    expect(untrusting.code).to.equal(1);
  });

  it('takes --tls-cert and --tls-key together or not at all, and a pair it can use', async () => {
    const alone = await run(CHAT_SERVER, ['--db', ':memory:', '--tls-cert', pair.certFile]);
    expect(alone.code).to.equal(2);
    expect(alone.stderr).to.have.length(1);
    expect(alone.stderr[0]).to.match(/^--tls-cert and --tls-key go together; usage: /);

    const garbage = join(temporary.path(), 'garbage.pem');
    writeFileSync(garbage, 'not a certificate\n');
    const missing = join(temporary.path(), 'missing.pem');
    const cases: [[string, string], RegExp][] = [
      [[garbage, pair.keyFile], /^--tls-cert .*garbage\.pem is not a PEM certificate: /],
      [[pair.certFile, garbage], /^--tls-key .*garbage\.pem is not a PEM private key: /],
      [[missing, pair.keyFile], /^cannot read --tls-cert .*missing\.pem: ENOENT/],
      [[pair.certFile, other.keyFile], /^--tls-key .*other\.key is not the private key of /],
    ];
    for (const [[cert, key], line] of cases) {
      const result = await run(CHAT_SERVER, [
        '--port',
        '0',
        '--db',
        ':memory:',
        '--tls-cert',
        cert,
        '--tls-key',
        key,
      ]);
      expect(result.code).to.equal(1);
      expect(result.stderr).to.have.length(1);
      expect(result.stderr[0]).to.match(line);
    }
  });
});
