import { expect } from 'chai';
import {
  connectionsPerAddress,
  DEFAULT_PORT_RANGE,
  isLoopback,
  parsePortRange,
  sourceAddressCount,
  sourceAddressOf,
  SourcePorts,
} from '../../src/loadtest/source-addresses';

describe('source addresses', () => {
  it('reads the port range as /proc/sys/net/ipv4/ip_local_port_range gives it', () => {
    expect(parsePortRange('32768\t60999\n')).to.deep.equal({ low: 32768, high: 60999 });
    expect(parsePortRange('1024 65535')).to.deep.equal({ low: 1024, high: 65535 });
    for (const text of ['', '32768', '60999\t32768', '0\t100', '1024\t65536', 'a\tb']) {
      expect(parsePortRange(text), text).to.equal(undefined);
    }
  });

  it('takes localhost and 127.0.0.0/8 for the loopback, and nothing else', () => {
    for (const host of ['localhost', '127.0.0.1', '127.0.0.2', '127.255.255.254']) {
      expect(isLoopback(host), host).to.equal(true);
    }
    for (const host of ['::1', '10.0.0.1', '128.0.0.1', '127.example.com', '0.0.0.0', '']) {
      expect(isLoopback(host), host).to.equal(false);
    }
  });

  it('gives a source address half of its ephemeral ports', () => {
    expect(connectionsPerAddress(DEFAULT_PORT_RANGE)).to.equal(14_116);
    expect(connectionsPerAddress({ low: 5000, high: 5000 })).to.equal(1);
  });

  it('uses as many loopback addresses as the connections need, one elsewhere', () => {
    const count = (host: string, clients: number) =>
      sourceAddressCount(host, clients, DEFAULT_PORT_RANGE);
    expect(count('127.0.0.1', 1)).to.equal(1);
    expect(count('127.0.0.1', 14_116)).to.equal(1);
    expect(count('127.0.0.1', 14_117)).to.equal(2);
    expect(count('localhost', 50_000)).to.equal(4);
    expect(count('10.0.0.1', 50_000)).to.equal(1);
    expect(count('::1', 50_000)).to.equal(1);
  });

  it('lets the clients take turns from 127.0.0.2, and leaves one address to the kernel', () => {
    expect([0, 1, 2, 3, 4].map((index) => sourceAddressOf(index, 1))).to.deep.equal(
      Array<undefined>(5).fill(undefined),
    );
    expect([0, 1, 2, 3, 4].map((index) => sourceAddressOf(index, 3))).to.deep.equal([
      '127.0.0.2',
      '127.0.0.3',
      '127.0.0.4',
      '127.0.0.2',
      '127.0.0.3',
    ]);
    expect(sourceAddressOf(299, 300)).to.equal('127.0.1.45');
  });

  it('gives each address the ports of the range in turn, from its low end, round and round', () => {
    const ports = new SourcePorts({ low: 5000, high: 5002 });
    expect(ports.size).to.equal(3);
    const taken = ['a', 'a', 'b', 'a', 'a', 'b'].map((address) => ports.take(address));
    expect(taken).to.deep.equal([5000, 5001, 5000, 5002, 5000, 5001]);
  });
});
