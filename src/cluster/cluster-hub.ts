import { from, Observable, Subscription } from 'rxjs';
import { ChatSignal } from '../chat/chat-session';
import { Signal, UserId } from '../server/service';
import { SignalHub } from '../server/signal-hub';
import { SignalListener, Switchboard } from '../server/switchboard';
import { BusMessage } from './bus-messages';
import { ClusterBus } from './cluster-bus';

type ChatServerSignal = Signal<ChatSignal>;

/**
 * What a node does with a message from the bus: deliveries and stops go to the one user they are
 * for, if it is connected here; announcements to everyone here. A node's own signals come back
 * to it on the bus, and were delivered here already.
 */
export function hearFromBus(
  message: BusMessage,
  node: string,
  here: Switchboard<ChatServerSignal>,
): void {
  if ('deliver' in message) {
    here.send(message.to, { deliver: message.deliver });
    return;
  }
  if (message.origin === node) return;
  const { signal } = message;
  if ('announce' in signal) here.broadcastHere({ announce: signal.announce });
  else here.send(signal.to, { stop: signal.stop });
}

/**
 * The switchboard of a node of a cluster: this node's own users through a SignalHub, the others'
 * through the bus. Deliveries need no sending across: the store's write passed each on to its
 * recipient's node already.
 */
export class ClusterHub implements Switchboard<ChatServerSignal> {
  private readonly here = new SignalHub<ChatServerSignal>();
  /** The latest presence change sent: Redis carries them out in order. */
  private lastPresence: Promise<void> = Promise.resolve();

  constructor(private readonly bus: ClusterBus) {}

  /** Listens to the bus until unsubscribed; after Redis was away, every user here looks again. */
  connect(): Subscription {
    const listening = this.bus.messages.subscribe((message) =>
      hearFromBus(message, this.bus.node, this.here),
    );
    listening.add(this.bus.reconnected.subscribe(() => this.here.broadcastHere({ recheck: true })));
    return listening;
  }

  /** The users connected to this node. */
  users(): IterableIterator<UserId> {
    return this.here.users();
  }

  listen(id: UserId, listener: SignalListener<ChatServerSignal>): void {
    this.lastPresence = this.bus.join(id);
    this.here.listen(id, listener);
  }

  leave(id: UserId, listener: SignalListener<ChatServerSignal>): void {
    this.here.leave(id, listener);
    // Not when another connection here took the user over.
    if (!this.here.isOnline(id)) this.lastPresence = this.bus.leave(id);
  }

  settled(): Observable<void> {
    return from(this.lastPresence);
  }

  isOnline(id: UserId): boolean {
    return this.here.isOnline(id);
  }

  send(id: UserId, signal: ChatServerSignal): void {
    if (this.here.isOnline(id)) this.here.send(id, signal);
    else if ('stop' in signal) this.bus.publish({ stop: signal.stop, to: id });
  }

  broadcast(signal: ChatServerSignal): void {
    this.here.broadcastHere(signal);
    if ('announce' in signal) this.bus.publish({ announce: signal.announce });
  }

  broadcastHere(signal: ChatServerSignal): void {
    this.here.broadcastHere(signal);
  }
}
