import { expect } from 'chai';
import { once } from 'node:events';
import { AddressInfo, createServer, Server, Socket } from 'node:net';
import { firstValueFrom } from 'rxjs';
import { connectFrom } from '../../src/cli/load-connections';
import { SourcePorts } from '../../src/loadtest/source-addresses';

async function listening(host: string): Promise<Server> {
  const server = createServer();
  server.listen(0, host);
  await once(server, 'listening');
  return server;
}

const portOf = (server: Server) => (server.address() as AddressInfo).port;

describe('connectFrom', () => {
  const servers: Server[] = [];
  afterEach(() => {
    for (const server of servers.splice(0)) server.close();
  });

  it('connects from the source address, skipping a port found taken', async () => {
    const target = await listening('127.0.0.1');
    const taken = await listening('127.0.0.2');
    servers.push(target, taken);
    const low = portOf(taken);
    const accepted = once(target, 'connection') as Promise<[Socket]>;

    const source = { address: '127.0.0.2', ports: new SourcePorts({ low, high: low + 100 }) };
    const transport = await firstValueFrom(
      connectFrom('127.0.0.1', portOf(target), undefined, source),
    );
    const [socket] = await accepted;
    expect(socket.remoteAddress).to.equal('127.0.0.2');
    expect(socket.remotePort)
      .to.be.above(low)
      .and.at.most(low + 100);
    transport.destroy();
    socket.destroy();
  });
});
