import { expect } from 'chai';
import { lastValueFrom, of, throwError, toArray } from 'rxjs';
import { parseCommand } from '../../src/server/operator-commands';
import { DirectMessageCounters } from '../../src/chat/direct-message-counters';
import { operator, OperatorDeps } from '../../src/server/operator';
import { ServerEvent } from '../../src/server/server-events';
import { foldEvent, initialServerState, ServerState } from '../../src/server/server-state';
import { TrafficCounter } from '../../src/server/traffic';
import { LiveNode, NodeStatus } from '../../src/cluster/cluster-bus';

describe('parseCommand', () => {
  it('reads every command, with or without surrounding spaces', () => {
    expect(parseCommand('num_users')).to.deep.equal({ name: 'num_users' });
    expect(parseCommand('  users  ')).to.deep.equal({ name: 'users' });
    expect(parseCommand('kick 12')).to.deep.equal({ name: 'kick', id: 12n });
    expect(parseCommand('kick 9223372036854775807')).to.deep.equal({
      name: 'kick',
      id: 2n ** 63n - 1n,
    });
    expect(parseCommand('broadcast  hello,   world ')).to.deep.equal({
      name: 'broadcast',
      text: 'hello,   world',
    });
  });

  it('answers a blank line with nothing, and anything wrong with a one-line error', () => {
    expect(parseCommand('   ')).to.equal(undefined);
    expect(parseCommand('frob')).to.deep.equal({
      error: 'unknown command "frob"; type help for the list of commands',
    });
    expect(parseCommand('num_users now')).to.deep.equal({ error: 'num_users takes no arguments' });
    expect(parseCommand('broadcast')).to.deep.equal({ error: 'usage: broadcast <text>' });
    for (const bad of ['kick', 'kick 0', 'kick -3', 'kick abc', 'kick 9223372036854775808']) {
      expect(parseCommand(bad), bad).to.deep.equal({
        error: 'usage: kick <id>, where id is a user id as listed by users',
      });
    }
  });
});

function stateWith(...events: ServerEvent[]): ServerState {
  return events.reduce(foldEvent, initialServerState(0));
}

const connected = (id: bigint, traffic = new TrafficCounter()): ServerEvent => ({
  type: 'connected',
  id,
  remoteAddress: '10.0.0.1:7',
  at: Date.UTC(2026, 10, 21, 12),
  traffic,
});

function answersTo(lines: string[], state: ServerState, now = 0, deps: OperatorDeps = {}) {
  return lastValueFrom(operator(of(...lines), of(state), deps, () => now).pipe(toArray()));
}

describe('operator', () => {
  it('answers num_users and users from the state', async () => {
    const traffic = new TrafficCounter();
    traffic.countIn(3);
    traffic.countOut(4);
    const state = stateWith(connected(1n, traffic), connected(2n), {
      type: 'disconnected',
      id: 2n,
      connection: 2n,
      remoteAddress: '10.0.0.1:7',
      reason: 'x',
    });
    expect(await answersTo(['num_users', 'users'], state)).to.deep.equal([
      { answer: '1 user connected' },
      {
        answer:
          'user 1 from 10.0.0.1:7, connected since 2026-11-21T12:00:00.000Z, 3 messages in, 4 out',
      },
    ]);
    expect(await answersTo(['num_users', 'users'], stateWith())).to.deep.equal([
      { answer: '0 users connected' },
      { answer: 'no users connected' },
    ]);
  });

  it('turns kick, broadcast and quit into controls, and refuses to kick a user who is not there', async () => {
    const state = stateWith(connected(1n));
    expect(await answersTo(['kick 1', 'kick 2', 'broadcast hi', 'quit'], state)).to.deep.equal([
      { answer: 'kicking user 1' },
      { control: { type: 'kick', id: 1n } },
      { answer: 'no user 2 is connected' },
      { control: { type: 'broadcast', text: 'hi' } },
      { answer: 'broadcast to 1 user' },
      { answer: 'shutting down: closing 1 connection' },
      { control: { type: 'shutdown' } },
    ]);
  });

  it('gives stats with the uptime', async () => {
    const state = stateWith(connected(1n), { type: 'refused', remoteAddress: 'x', reason: 'full' });
    const oneDayAndABit = ((24 * 60 + 61) * 60 + 5) * 1000;
    expect(await answersTo(['stats'], state, oneDayAndABit)).to.deep.equal([
      { answer: 'uptime 1d 1h 1m 5s' },
      { answer: 'users now 1, peak 1' },
      { answer: 'connections 1 accepted, 1 refused' },
      { answer: 'messages 0 in, 0 out' },
      { answer: 'protocol errors 0' },
      {
        answer:
          'limits: 0 connections refused per address, 0 slowed down, 0 closed idle, 0 closed with a frame unfinished',
      },
    ]);
  });

  it('lists known users who are offline after the connected ones, with what waits for each', async () => {
    const state = stateWith(connected(1n));
    const knownUsers = () =>
      of([
        { id: 1n, waiting: 0n },
        { id: 2n, waiting: 3n },
        { id: 5n, waiting: 1n },
      ]);
    expect(await answersTo(['users'], state, 0, { knownUsers })).to.deep.equal([
      {
        answer:
          'user 1 from 10.0.0.1:7, connected since 2026-11-21T12:00:00.000Z, 0 messages in, 0 out',
      },
      { answer: 'user 2 offline, 3 messages waiting' },
      { answer: 'user 5 offline, 1 message waiting' },
    ]);
    const failing = () => throwError(() => new Error('disk I/O error'));
    expect(await answersTo(['users'], stateWith(), 0, { knownUsers: failing })).to.deep.equal([
      { answer: 'no users connected' },
      { answer: 'cannot list the offline users: disk I/O error' },
    ]);
  });

  it('adds what became of direct messages to the stats', async () => {
    const directMessages = Object.assign(new DirectMessageCounters(), {
      stored: 5,
      delivered: 4,
      acknowledged: 3,
      refused: 2,
    });
    const answers = await answersTo(['stats'], stateWith(), 0, { directMessages });
    expect(answers).to.deep.include({
      answer: 'direct messages 5 stored, 4 delivered, 3 acknowledged, 2 refused',
    });
  });
});

describe('operator of a node of a cluster', () => {
  const status = (address: string, heardAt: number): NodeStatus => ({
    instance: 'x',
    address,
    startedAt: 0,
    heardAt,
    framesIn: 10,
    framesOut: 12,
    stored: 3,
    delivered: 2,
    acknowledged: 1,
    refused: 0,
  });
  const nodes: LiveNode[] = [
    { name: 'a', status: status('10.0.0.1:8081', 9_500), users: [1n] },
    { name: 'b', status: status('10.0.0.2:8082', 8_000), users: [257n, 258n] },
  ];
  const cluster = (live: readonly LiveNode[] = nodes): OperatorDeps => ({
    cluster: { node: 'a', nodes: () => of(live) },
  });
  const unreachable: OperatorDeps = {
    cluster: { node: 'a', nodes: () => throwError(() => new Error('connection refused')) },
  };
  const state = stateWith(connected(1n));

  it('counts the users here and in the whole cluster', async () => {
    expect(await answersTo(['num_users'], state, 0, cluster())).to.deep.equal([
      { answer: '1 user connected here, 3 in the cluster' },
    ]);
    expect(await answersTo(['num_users'], state, 0, unreachable)).to.deep.equal([
      { answer: '1 user connected here; the cluster cannot be reached: connection refused' },
    ]);
  });

  it('lists every connected user with its node, then the offline ones', async () => {
    const knownUsers = () =>
      of([
        { id: 1n, waiting: 0n },
        { id: 2n, waiting: 4n },
        { id: 257n, waiting: 0n },
        { id: 258n, waiting: 0n },
      ]);
    expect(await answersTo(['users'], state, 0, { ...cluster(), knownUsers })).to.deep.equal([
      {
        answer:
          'user 1 on node a from 10.0.0.1:7, connected since 2026-11-21T12:00:00.000Z, 0 messages in, 0 out',
      },
      { answer: 'user 257 on node b' },
      { answer: 'user 258 on node b' },
      { answer: 'user 2 offline, 4 messages waiting' },
    ]);
  });

  it('kicks a user on another node, and broadcasts to the whole cluster', async () => {
    expect(
      await answersTo(['kick 258', 'kick 9', 'broadcast hi'], state, 0, cluster()),
    ).to.deep.equal([
      { answer: 'kicking user 258 on node b' },
      { control: { type: 'kick', id: 258n } },
      { answer: 'no user 9 is connected' },
      { control: { type: 'broadcast', text: 'hi' } },
      { answer: 'broadcast to 3 users in the cluster' },
    ]);
    expect(await answersTo(['kick 258'], state, 0, unreachable)).to.deep.equal([
      {
        answer: 'no user 258 is connected here; the cluster cannot be reached: connection refused',
      },
    ]);
  });

  it('lists the nodes, and adds a line a node to the stats', async () => {
    expect(await answersTo(['nodes'], state, 10_000, cluster())).to.deep.equal([
      { answer: 'node a at 10.0.0.1:8081: 1 user, last heard 0.5 s ago (this node)' },
      { answer: 'node b at 10.0.0.2:8082: 2 users, last heard 2.0 s ago' },
    ]);
    const stats = await answersTo(['stats'], state, 10_000, cluster());
    expect(stats.slice(-2)).to.deep.equal([
      {
        answer:
          'node a: 1 user, messages 10 in, 12 out, direct messages 3 stored, 2 delivered, 1 acknowledged, 0 refused, heard 0.5 s ago',
      },
      {
        answer:
          'node b: 2 users, messages 10 in, 12 out, direct messages 3 stored, 2 delivered, 1 acknowledged, 0 refused, heard 2.0 s ago',
      },
    ]);
    expect(await answersTo(['nodes'], state)).to.deep.equal([
      { answer: 'this server is not a node of a cluster (see --redis)' },
    ]);
  });
});
