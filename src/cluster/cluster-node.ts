import { randomBytes } from 'node:crypto';
import {
  catchError,
  EMPTY,
  exhaustMap,
  firstValueFrom,
  Observable,
  Subscription,
  timer,
} from 'rxjs';
import { DirectMessageCounters } from '../chat/direct-message-counters';
import { describeError } from '../server/failure-text';
import { ServerState } from '../server/server-state';
import { RedisStore } from '../store/redis-store';
import { ClusterHub } from './cluster-hub';
import { NodeStatus } from './cluster-bus';
import { IdBlocks } from './id-blocks';
import { NodeNameHeld, RedisBus } from './redis-bus';
import { RedisLink } from './redis-connection';

/** How often a node says it is alive: a third of how long it counts as alive. */
const BEAT_MS = 1000;

export interface ClusterNodeOptions {
  /** Where Redis is: redis://HOST:PORT. */
  readonly url: string;
  readonly node: string;
  readonly counters: Readonly<DirectMessageCounters>;
  readonly log: (line: string) => void;
}

/** What a node knows of itself while it runs, for its heartbeat. */
export interface NodeSelf {
  readonly state: ServerState;
  readonly address: string;
}

/**
 * This process as a node of a cluster: its connections to Redis, the shared store, the bus and
 * switchboard, its supply of ids, and its heartbeat. `join` resolves once the node has its
 * name and its first ids; `close` lets go of all of it.
 */
export class ClusterNode {
  private readonly instance = randomBytes(8).toString('hex');
  private readonly startedAt = Date.now();
  private readonly running = new Subscription();

  private constructor(
    private readonly link: RedisLink,
    readonly store: RedisStore,
    readonly bus: RedisBus,
    readonly hub: ClusterHub,
    readonly ids: IdBlocks,
    private readonly options: ClusterNodeOptions,
  ) {}

  static async join(options: ClusterNodeOptions): Promise<ClusterNode> {
    const link = await RedisLink.open(options.url, options.log);
    try {
      const store = await RedisStore.open(link.commands, options.node);
      const bus = new RedisBus(link, options.node, options.log);
      const node = new ClusterNode(
        link,
        store,
        bus,
        new ClusterHub(bus),
        new IdBlocks((count) => store.reserveIds(count)),
        options,
      );
      await node.claimName();
      await node.ids.start();
      node.running.add(node.hub.connect());
      return node;
    } catch (error) {
      await link.close();
      throw error;
    }
  }

  /**
   * Takes the node's name. One held by a process that beat less than a few seconds ago may be
   * a node that was just killed (and restarted under the same name): its name is waited for,
   * once, until its heartbeat expires.
   */
  private async claimName(): Promise<void> {
    const claim = () =>
      firstValueFrom(this.bus.claim(this.status(undefined), []), { defaultValue: undefined });
    try {
      await claim();
    } catch (error) {
      if (!(error instanceof NodeNameHeld)) throw error;
      this.options.log(
        `the node name "${this.name}" is held by another process for ${error.heldForMs} ms more; waiting for it to expire`,
      );
      await new Promise((resolve) => setTimeout(resolve, error.heldForMs + 100));
      await claim();
    }
  }

  get name(): string {
    return this.options.node;
  }

  /** Beats every second with what `self$` says last, until the node closes. */
  beat(self$: Observable<NodeSelf>): void {
    let latest: NodeSelf | undefined;
    this.running.add(self$.subscribe((self) => (latest = self)));
    let lastTrouble = '';
    this.running.add(
      timer(0, BEAT_MS)
        .pipe(
          exhaustMap(() =>
            this.bus
              .beat(this.status(latest), () => Array.from(this.hub.users()))
              .pipe(
                catchError((error: unknown) => {
                  const why = describeError(error);
                  if (why !== lastTrouble) this.options.log(`heartbeat failed: ${why}`);
                  lastTrouble = why;
                  return EMPTY;
                }),
              ),
          ),
        )
        .subscribe(() => (lastTrouble = '')),
    );
  }

  async close(): Promise<void> {
    this.running.unsubscribe();
    this.ids.stop();
    await this.bus.depart(this.instance);
    await this.link.close();
  }

  private status(self: NodeSelf | undefined): NodeStatus {
    const { counters } = this.options;
    return {
      instance: this.instance,
      address: self?.address ?? '',
      startedAt: this.startedAt,
      heardAt: Date.now(),
      framesIn: self?.state.traffic.framesIn ?? 0,
      framesOut: self?.state.traffic.framesOut ?? 0,
      stored: counters.stored,
      delivered: counters.delivered,
      acknowledged: counters.acknowledged,
      refused: counters.refused,
    };
  }
}
