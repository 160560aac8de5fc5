import { expect } from 'chai';
import { map, scan } from 'rxjs';
import { testScheduler } from '../support/marbles';
import { ServerEvent } from '../../src/server/server-events';
import { foldEvent, hostOf, initialServerState } from '../../src/server/server-state';
import { TrafficCounter } from '../../src/server/traffic';

const connected = (id: bigint): ServerEvent => ({
  type: 'connected',
  id,
  remoteAddress: `10.0.0.${id}:1`,
  at: 0,
  traffic: new TrafficCounter(),
});
const disconnected = (id: bigint, connection = id): ServerEvent => ({
  type: 'disconnected',
  id,
  connection,
  remoteAddress: `10.0.0.${connection}:1`,
  reason: 'test',
});

describe('server state', () => {
  it('counts users as a scan over connects and disconnects', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const events = hot('-a-b-A-r-c-B-C-', {
        a: connected(1n),
        b: connected(2n),
        c: connected(3n),
        A: disconnected(1n),
        B: disconnected(2n),
        C: disconnected(3n),
        r: { type: 'refused', remoteAddress: 'x', reason: 'full' } satisfies ServerEvent,
      });
      const usersNow = events.pipe(
        scan(foldEvent, initialServerState(0)),
        map((state) => state.stats.usersNow),
      );
      expectObservable(usersNow).toBe('-1-2-1-1-2-1-0-', { 0: 0, 1: 1, 2: 2 });
    });
  });

  it('counts the connections of each host, and what each limit turned away, slowed or closed', () => {
    const events: ServerEvent[] = [
      connected(1n),
      {
        type: 'connected',
        id: 2n,
        remoteAddress: '10.0.0.1:2',
        at: 0,
        traffic: new TrafficCounter(),
      },
      connected(3n),
      disconnected(1n),
      { type: 'refused', remoteAddress: '10.0.0.3:9', reason: 'too many', limit: 'per-address' },
      { type: 'limited', id: 2n, limit: 'rate', message: 'slow down' },
      { type: 'limited', id: 3n, limit: 'idle', message: 'idle' },
      { type: 'limited', id: 3n, limit: 'frame-timeout', message: 'unfinished' },
    ];
    const state = events.reduce(foldEvent, initialServerState(0));
    // Users 1 and 2 came from 10.0.0.1, and 1 left.
    expect([...state.connectionsFrom]).to.deep.equal([
      ['10.0.0.1', 1],
      ['10.0.0.3', 1],
    ]);
    expect(state.stats.limited).to.deep.equal({
      'per-address': 1,
      rate: 1,
      idle: 1,
      'frame-timeout': 1,
    });
    expect(state.stats.refused).to.equal(1);
    expect(hostOf('[::1]:8080')).to.equal('::1');
    expect(hostOf('::ffff:127.0.0.1:8080')).to.equal('::ffff:127.0.0.1');
  });

  it('keeps peak users, totals, refusals, protocol errors and the table of who is connected', () => {
    const events: ServerEvent[] = [
      connected(1n),
      connected(2n),
      { type: 'protocol-error', id: 2n, message: 'bad' },
      disconnected(2n),
      { type: 'refused', remoteAddress: 'x', reason: 'full' },
      connected(3n),
    ];
    const state = events.reduce(foldEvent, initialServerState(0));
    expect(state.stats).to.deep.equal({
      startedAt: 0,
      usersNow: 2,
      peakUsers: 2,
      totalConnections: 3,
      refused: 1,
      protocolErrors: 1,
      limited: { 'per-address': 0, rate: 0, idle: 0, 'frame-timeout': 0 },
    });
    expect(state.lastId).to.equal(3n);
    expect([...state.users.keys()]).to.deep.equal([1n, 3n]);
    expect(state.users.get(3n)).to.include({ remoteAddress: '10.0.0.3:1' });
  });

  it('moves a resumed user to its new connection; the old connection leaving does not remove it', () => {
    const events: ServerEvent[] = [
      connected(1n),
      connected(2n),
      { type: 'resumed', connection: 2n, from: 2n, id: 1n },
      disconnected(1n, 1n),
    ];
    const state = events.reduce(foldEvent, initialServerState(0));
    expect(state.stats.usersNow).to.equal(1);
    expect([...state.users.keys()]).to.deep.equal([1n]);
    expect(state.users.get(1n)).to.include({ connection: 2n, remoteAddress: '10.0.0.2:1' });
    expect(foldEvent(state, disconnected(1n, 2n)).users.size).to.equal(0);
  });

  it('starts its ids after the last one given out before', () => {
    expect(initialServerState(0, undefined, 41n).lastId).to.equal(41n);
  });
});
