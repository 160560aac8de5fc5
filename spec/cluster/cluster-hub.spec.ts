import { expect } from 'chai';
import Long from 'long';
import { EMPTY, Observable, of, Subject, Subscription, Unsubscribable } from 'rxjs';
import { ChatSignal } from '../../src/chat/chat-session';
import { BusMessage, NodeSignal } from '../../src/cluster/bus-messages';
import { ClusterBus, LiveNode } from '../../src/cluster/cluster-bus';
import { ClusterHub, hearFromBus } from '../../src/cluster/cluster-hub';
import { Signal, UserId } from '../../src/server/service';
import { SignalHub } from '../../src/server/signal-hub';
import { SignalListener, Switchboard } from '../../src/server/switchboard';

type ChatServerSignal = Signal<ChatSignal>;

const MAX_INT64 = 2n ** 63n - 1n;

/** A bus that keeps what the hub tells it, and carries what the test sends. */
class FakeBus implements ClusterBus {
  readonly node = 'node-a';
  readonly incoming = new Subject<BusMessage>();
  readonly messages: Observable<BusMessage> = this.incoming;
  readonly lost = new Subject<void>();
  readonly reconnected: Observable<void> = this.lost;
  /** Presence changes, in order: `join 1`, `leave 1`. */
  readonly presence: string[] = [];
  readonly published: NodeSignal[] = [];

  /** Resolves the presence changes Redis has carried out, in order. */
  readonly carriedOut: (() => void)[] = [];

  join(id: UserId): Promise<void> {
    this.presence.push(`join ${id}`);
    return new Promise((resolve) => this.carriedOut.push(resolve));
  }

  leave(id: UserId): Promise<void> {
    this.presence.push(`leave ${id}`);
    return new Promise((resolve) => this.carriedOut.push(resolve));
  }

  publish(signal: NodeSignal): void {
    this.published.push(signal);
  }

  beat(): Observable<void> {
    return EMPTY;
  }

  claim(): Observable<void> {
    return EMPTY;
  }

  depart(): Promise<void> {
    return Promise.resolve();
  }

  nodes(): Observable<readonly LiveNode[]> {
    return of([]);
  }
}

/** A switchboard that only keeps what it was asked to do. */
class RecordingSwitchboard implements Switchboard<ChatServerSignal> {
  readonly calls: [string, ...unknown[]][] = [];

  listen(): void {
    this.calls.push(['listen']);
  }

  leave(): void {
    this.calls.push(['leave']);
  }

  isOnline(): boolean {
    return true;
  }

  send(id: UserId, signal: ChatServerSignal): void {
    this.calls.push(['send', id, signal]);
  }

  broadcast(signal: ChatServerSignal): void {
    this.calls.push(['broadcast', signal]);
  }

  broadcastHere(signal: ChatServerSignal): void {
    this.calls.push(['broadcastHere', signal]);
  }

  settled(): Observable<void> {
    return EMPTY;
  }
}

function delivered(to: bigint, ...numbers: bigint[]): BusMessage {
  return {
    to,
    deliver: {
      to: Long.fromString(to.toString()),
      deliveries: numbers.map((delivery) => ({
        delivery,
        from: 9n,
        msg: `m${delivery}`,
        redelivered: false,
      })),
    },
  };
}

/** A name for what a user heard, for short expectations. */
function describeSignal(signal: ChatServerSignal): string {
  if ('announce' in signal) return `announce ${signal.announce}`;
  if ('stop' in signal) return `stop ${signal.stop}`;
  if ('deliver' in signal) {
    return `deliver ${signal.deliver.deliveries.map(({ delivery }) => delivery).join(',')}`;
  }
  if ('relay' in signal) return `relay ${signal.relay.texts.join(',')}`;
  return 'recheck';
}

describe('hearFromBus', () => {
  it('gives deliveries to the one user they are for, whichever node stored them', () => {
    const here = new RecordingSwitchboard();
    const message = delivered(MAX_INT64, 1n, 2n);
    hearFromBus(message, 'node-a', here);
    if (!('deliver' in message)) throw new Error('not a delivery');
    expect(here.calls).to.deep.equal([['send', MAX_INT64, { deliver: message.deliver }]]);
  });

  it("gives another node's stop to the one user it is for, and its announcement to everyone here", () => {
    const here = new RecordingSwitchboard();
    hearFromBus({ origin: 'node-b', signal: { stop: 'kicked', to: 4n } }, 'node-a', here);
    hearFromBus(
      { origin: 'node-b', signal: { stop: 'taken-over', to: MAX_INT64 } },
      'node-a',
      here,
    );
    hearFromBus({ origin: 'node-c', signal: { announce: 'hello all' } }, 'node-a', here);
    expect(here.calls).to.deep.equal([
      ['send', 4n, { stop: 'kicked' }],
      ['send', MAX_INT64, { stop: 'taken-over' }],
      ['broadcastHere', { announce: 'hello all' }],
    ]);
  });

  it('ignores its own signals coming back: they were given here already', () => {
    const here = new RecordingSwitchboard();
    hearFromBus({ origin: 'node-a', signal: { stop: 'kicked', to: 4n } }, 'node-a', here);
    hearFromBus({ origin: 'node-a', signal: { announce: 'mine' } }, 'node-a', here);
    expect(here.calls).to.deep.equal([]);
    // A name that merely starts like its own is another node.
    hearFromBus({ origin: 'node-a2', signal: { announce: 'theirs' } }, 'node-a', here);
    expect(here.calls).to.deep.equal([['broadcastHere', { announce: 'theirs' }]]);
  });

  it('gives nothing to a user who is not here, and to no one else', () => {
    const here = new SignalHub<ChatServerSignal>();
    const heard: string[] = [];
    here.listen(1n, { hear: (signal) => heard.push(describeSignal(signal)) });
    hearFromBus(delivered(2n, 1n), 'node-a', here);
    hearFromBus({ origin: 'node-b', signal: { stop: 'kicked', to: 2n } }, 'node-a', here);
    expect(heard).to.deep.equal([]);
    hearFromBus(delivered(1n, 5n), 'node-a', here);
    expect(heard).to.deep.equal(['deliver 5']);
  });
});

describe('ClusterHub', () => {
  let bus: FakeBus;
  let hub: ClusterHub;
  let connected: Subscription;
  let heard: string[];

  beforeEach(() => {
    bus = new FakeBus();
    hub = new ClusterHub(bus);
    connected = hub.connect();
    heard = [];
  });

  afterEach(() => connected.unsubscribe());

  /**
   * A connection here speaking for `id`, recording what it hears as `<label>: <signal>`; it
   * leaves when unsubscribed.
   */
  function listen(id: UserId, label = String(id)): Unsubscribable {
    const listener: SignalListener<ChatServerSignal> = {
      hear: (signal) => heard.push(`${label}: ${describeSignal(signal)}`),
    };
    hub.listen(id, listener);
    return { unsubscribe: () => hub.leave(id, listener) };
  }

  describe('presence', () => {
    it('joins a user when a connection listens for it, not before, and leaves it when it leaves', () => {
      expect(bus.presence).to.deep.equal([]);
      expect(hub.isOnline(1n)).to.equal(false);
      const listening = listen(1n);
      expect(bus.presence).to.deep.equal(['join 1']);
      expect(hub.isOnline(1n)).to.equal(true);
      expect([...hub.users()]).to.deep.equal([1n]);
      listening.unsubscribe();
      expect(bus.presence).to.deep.equal(['join 1', 'leave 1']);
      expect(hub.isOnline(1n)).to.equal(false);
      expect([...hub.users()]).to.deep.equal([]);
    });

    it('does not leave a user another connection here took over, and leaves it once that one goes too', () => {
      const old = listen(1n, 'old');
      const newer = listen(1n, 'new');
      expect(bus.presence).to.deep.equal(['join 1', 'join 1']);
      old.unsubscribe();
      expect(bus.presence).to.deep.equal(['join 1', 'join 1']);
      expect(hub.isOnline(1n)).to.equal(true);
      hub.send(1n, { announce: 'still here' });
      expect(heard).to.deep.equal(['new: announce still here']);
      newer.unsubscribe();
      expect(bus.presence).to.deep.equal(['join 1', 'join 1', 'leave 1']);
      expect(hub.isOnline(1n)).to.equal(false);
    });

    it('keeps the presence of each user apart, int64 ids exactly', () => {
      const one = listen(MAX_INT64);
      const two = listen(2n);
      one.unsubscribe();
      expect(bus.presence).to.deep.equal([`join ${MAX_INT64}`, 'join 2', `leave ${MAX_INT64}`]);
      expect([...hub.users()]).to.deep.equal([2n]);
      two.unsubscribe();
    });
  });

  describe('settled', () => {
    it('completes once Redis has carried out the last presence change sent', async () => {
      const done: string[] = [];
      const settledNow = () => hub.settled().subscribe({ complete: () => done.push('settled') });
      settledNow();
      await Promise.resolve();
      expect(done).to.deep.equal(['settled']);
      const listening = listen(1n);
      listening.unsubscribe();
      settledNow();
      (bus.carriedOut[0] as () => void)();
      await new Promise((resolve) => setImmediate(resolve));
      expect(done).to.deep.equal(['settled']);
      (bus.carriedOut[1] as () => void)();
      await new Promise((resolve) => setImmediate(resolve));
      expect(done).to.deep.equal(['settled', 'settled']);
    });
  });

  describe('send', () => {
    it('gives a signal to a user here, and publishes nothing', () => {
      listen(1n);
      listen(2n);
      const deliver = delivered(1n, 3n);
      if (!('deliver' in deliver)) throw new Error('not a delivery');
      hub.send(1n, { deliver: deliver.deliver });
      hub.send(1n, { relay: { to: Long.fromInt(1), from: 2n, texts: ['live'] } });
      hub.send(2n, { stop: 'kicked' });
      hub.send(2n, { recheck: true });
      expect(heard).to.deep.equal([
        '1: deliver 3',
        '1: relay live',
        '2: stop kicked',
        '2: recheck',
      ]);
      expect(bus.published).to.deep.equal([]);
    });

    it('publishes a stop for a user who is not here, for its node to carry out', () => {
      listen(1n);
      hub.send(5n, { stop: 'kicked' });
      hub.send(MAX_INT64, { stop: 'taken-over' });
      expect(bus.published).to.deep.equal([
        { stop: 'kicked', to: 5n },
        { stop: 'taken-over', to: MAX_INT64 },
      ]);
      expect(heard).to.deep.equal([]);
    });

    it('does not publish deliveries, relays, rechecks or announcements for a user who is not here', () => {
      listen(1n);
      const deliver = delivered(5n, 1n);
      if (!('deliver' in deliver)) throw new Error('not a delivery');
      // The store's write passed the deliveries on to their node already.
      hub.send(5n, { deliver: deliver.deliver });
      hub.send(5n, { relay: { to: Long.fromInt(5), from: 1n, texts: ['x'] } });
      hub.send(5n, { recheck: true });
      hub.send(5n, { announce: 'to one' });
      expect(bus.published).to.deep.equal([]);
      expect(heard).to.deep.equal([]);
    });

    it('publishes a stop for a user who left here', () => {
      listen(1n).unsubscribe();
      hub.send(1n, { stop: 'kicked' });
      expect(bus.published).to.deep.equal([{ stop: 'kicked', to: 1n }]);
    });
  });

  describe('broadcast', () => {
    it('gives an announcement to everyone here and publishes it for the other nodes', () => {
      listen(1n);
      listen(2n);
      hub.broadcast({ announce: 'hello all' });
      expect(heard).to.deep.equal(['1: announce hello all', '2: announce hello all']);
      expect(bus.published).to.deep.equal([{ announce: 'hello all' }]);
    });

    it('publishes an announcement also when no one is here', () => {
      hub.broadcast({ announce: 'anyone?' });
      expect(bus.published).to.deep.equal([{ announce: 'anyone?' }]);
    });

    it('keeps a shutdown to this node: the others go on', () => {
      listen(1n);
      hub.broadcast({ stop: 'shutdown' });
      expect(heard).to.deep.equal(['1: stop shutdown']);
      expect(bus.published).to.deep.equal([]);
    });

    it('broadcastHere gives a signal to everyone here and publishes nothing', () => {
      listen(1n);
      listen(2n);
      hub.broadcastHere({ announce: 'just us' });
      hub.broadcastHere({ recheck: true });
      expect(heard).to.deep.equal([
        '1: announce just us',
        '2: announce just us',
        '1: recheck',
        '2: recheck',
      ]);
      expect(bus.published).to.deep.equal([]);
    });
  });

  describe('connect', () => {
    it('gives what the bus carries to the users here: deliveries, stops and announcements of other nodes', () => {
      listen(1n);
      listen(2n);
      bus.incoming.next(delivered(1n, 1n, 2n));
      bus.incoming.next(delivered(3n, 1n));
      bus.incoming.next({ origin: 'node-b', signal: { stop: 'taken-over', to: 2n } });
      bus.incoming.next({ origin: 'node-b', signal: { announce: 'from b' } });
      expect(heard).to.deep.equal([
        '1: deliver 1,2',
        '2: stop taken-over',
        '1: announce from b',
        '2: announce from b',
      ]);
    });

    it('ignores its own signals on the bus', () => {
      listen(1n);
      hub.broadcast({ announce: 'once' });
      for (const signal of bus.published) bus.incoming.next({ origin: 'node-a', signal });
      bus.incoming.next({ origin: 'node-a', signal: { stop: 'kicked', to: 1n } });
      expect(heard).to.deep.equal(['1: announce once']);
    });

    it('has every user here look at the store again after the bus was away', () => {
      listen(1n);
      listen(MAX_INT64);
      bus.lost.next();
      expect(heard).to.deep.equal(['1: recheck', `${MAX_INT64}: recheck`]);
      expect(bus.published).to.deep.equal([]);
      bus.lost.next();
      expect(heard).to.have.length(4);
    });

    it('stops listening to the bus once unsubscribed', () => {
      listen(1n);
      connected.unsubscribe();
      expect(bus.incoming.observed).to.equal(false);
      expect(bus.lost.observed).to.equal(false);
      bus.incoming.next(delivered(1n, 1n));
      bus.lost.next();
      expect(heard).to.deep.equal([]);
      // Its users are still its own.
      hub.send(1n, { announce: 'direct' });
      expect(heard).to.deep.equal(['1: announce direct']);
    });
  });
});
