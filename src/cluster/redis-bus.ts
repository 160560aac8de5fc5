import { defer, map, mergeMap, Observable, of, throwError } from 'rxjs';
import { describeError } from '../server/failure-text';
import { UserId } from '../server/service';
import {
  BusMessage,
  decodeDeliveries,
  decodeSignal,
  encodeSignal,
  NodeSignal,
} from './bus-messages';
import { ClusterBus, LiveNode, NodeStatus } from './cluster-bus';
import { BEAT, CLAIM, DEPART, JOIN, LEAVE, NODES } from './presence-scripts';
import { RedisLink } from './redis-connection';
import { REDIS_KEYS } from './redis-keys';
import { replyStrings } from './redis-script';

/** How long a node counts as alive after its last heartbeat. */
export const NODE_TTL_MS = 3000;

/** Another process has this node's name, and beat `heldForMs` ago at most. */
export class NodeNameHeld extends Error {
  constructor(
    node: string,
    readonly heldForMs: number,
  ) {
    super(
      `the node name "${node}" is in use by another running node; give this one another --node`,
    );
  }
}

function nodesOf(flat: string[]): LiveNode[] {
  const nodes: LiveNode[] = [];
  let i = 0;
  while (i + 2 < flat.length) {
    const name = flat[i] as string;
    const status = JSON.parse(flat[i + 1] as string) as NodeStatus;
    const count = Number(flat[i + 2]);
    const users = flat.slice(i + 3, i + 3 + count).map((id) => BigInt(id));
    nodes.push({ name, status, users });
    i += 3 + count;
  }
  return nodes.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The cluster bus on Redis: presence in a hash and a set a node, heartbeats as keys that
 * expire, deliveries on a channel a node (published by the store's writes), signals on one
 * channel for all. A presence change that fails (Redis away) is dropped here: the node claims
 * its users again once Redis is back.
 */
export class RedisBus implements ClusterBus {
  readonly messages: Observable<BusMessage>;
  readonly reconnected: Observable<void>;

  constructor(
    private readonly link: RedisLink,
    readonly node: string,
    private readonly log: (line: string) => void,
  ) {
    this.reconnected = link.reconnected;
    this.messages = new Observable<BusMessage>((subscriber) => {
      const { subscriber: redis } = link;
      const deliveries = `${REDIS_KEYS.toNode}${node}`;
      const onMessage = (channel: string, payload: string) => {
        try {
          const messages =
            channel === deliveries ? decodeDeliveries(payload) : [decodeSignal(payload)];
          for (const message of messages) subscriber.next(message);
        } catch (error) {
          this.log(`ignored a message on ${channel}: ${describeError(error)}`);
        }
      };
      // Again each time Redis is back: a subscription that failed is not renewed by the client.
      const listen = () => {
        redis.subscribe(deliveries, REDIS_KEYS.signals).catch((error: unknown) => {
          this.log(`cannot listen to the other nodes yet: ${describeError(error)}`);
        });
      };
      redis.on('message', onMessage);
      redis.on('ready', listen);
      listen();
      return () => {
        redis.off('message', onMessage);
        redis.off('ready', listen);
        redis.unsubscribe(deliveries, REDIS_KEYS.signals).catch(() => undefined);
      };
    });
  }

  join(id: UserId): Promise<void> {
    return this.fireAndForget(JOIN.run(this.link.commands, [this.node, id.toString()]));
  }

  leave(id: UserId): Promise<void> {
    return this.fireAndForget(LEAVE.run(this.link.commands, [this.node, id.toString()]));
  }

  publish(signal: NodeSignal): void {
    void this.fireAndForget(
      this.link.commands.publish(REDIS_KEYS.signals, encodeSignal(this.node, signal)),
    );
  }

  beat(status: NodeStatus, users: () => readonly UserId[]): Observable<void> {
    const args = [this.node, status.instance, JSON.stringify(status), String(NODE_TTL_MS)];
    return defer(() => BEAT.run(this.link.commands, [...args, String(users().length)])).pipe(
      // The users as they are when the claim is sent: what was sent before it ran before it.
      mergeMap((reply) => (reply === 'OK' ? of(undefined) : this.claim(status, users()))),
    );
  }

  claim(status: NodeStatus, users: Iterable<UserId>): Observable<void> {
    const args = [this.node, status.instance, JSON.stringify(status), String(NODE_TTL_MS)];
    for (const id of users) args.push(id.toString());
    return defer(() => CLAIM.run(this.link.commands, args)).pipe(
      mergeMap((reply) => {
        const [outcome, heldFor] = replyStrings(reply);
        if (outcome === 'OK') return of(undefined);
        return throwError(() => new NodeNameHeld(this.node, Number(heldFor)));
      }),
    );
  }

  depart(instance: string): Promise<void> {
    return this.fireAndForget(DEPART.run(this.link.commands, [this.node, instance]));
  }

  nodes(): Observable<readonly LiveNode[]> {
    return defer(() => NODES.run(this.link.commands, [])).pipe(
      map((reply) => nodesOf(replyStrings(reply))),
    );
  }

  /** A presence change or a signal whose failure has no one to tell: Redis is away. */
  private fireAndForget(work: Promise<unknown>): Promise<void> {
    return work.then(
      () => undefined,
      () => undefined,
    );
  }
}
