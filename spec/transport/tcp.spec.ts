import { expect } from 'chai';
import { once } from 'node:events';
import { AddressInfo, connect as netConnect, createServer, Socket } from 'node:net';
import { connect } from '../../src/transport/tcp';

describe('connect', () => {
  it('destroys a socket it gives up on before it has connected, instead of leaving it to connect', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const accepted: Socket[] = [];
    server.on('connection', (socket: Socket) => accepted.push(socket));

    connect('127.0.0.1', port).subscribe().unsubscribe();
    // Connected after it, so accepted after it, if it were to connect at all.
    const probe = netConnect(port, '127.0.0.1');
    await once(probe, 'connect');
    while (accepted.length === 0) await once(server, 'connection');

    expect(accepted[0]?.remotePort).to.equal(probe.localPort);
    probe.destroy();
    for (const socket of accepted) socket.destroy();
    server.close();
  });
});
