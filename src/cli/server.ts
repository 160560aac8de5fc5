import { hostname } from 'node:os';
import { map, Observable } from 'rxjs';
import { DirectMessageCounters } from '../chat/direct-message-counters';
import { ClusterNode } from '../cluster/cluster-node';
import { chatService, DEFAULT_MAX_PENDING } from '../server/chat-service';
import { ServerUpdate } from '../server/server';
import { SqliteStore } from '../store/sqlite-store';
import { flag, UsageError } from './flags';
import { runServerProgram } from './server-program';
import { serverTls, TLS_SERVER_USAGE, tlsServerFlags } from './tls-flags';

runServerProgram('npm start --', {
  sizeFlag: 'max-frame-bytes',
  flags: {
    db: flag.text('chat.db', 'a file name, or :memory:'),
    'max-pending': flag.count(DEFAULT_MAX_PENDING),
    fsync: flag.choice('normal', ['normal', 'always'] as const),
    redis: flag.redisUrl(),
    node: flag.name(''),
    ...tlsServerFlags,
  },
  flagsUsage:
    '[--db FILE] [--max-pending N] [--fsync normal|always] [--redis redis://HOST:PORT [--node NAME]] ' +
    TLS_SERVER_USAGE,
  console: true,
  setup: (flags, maxFrameBytes, log) => {
    // First: a certificate that cannot be used stops the server before it opens anything.
    const tls = serverTls(flags);
    if (tls) log(tls.line);
    const listener = tls ? { listen: tls.listen } : {};
    const counters = new DirectMessageCounters();
    const maxPending = flags['max-pending'];
    if (flags.redis === undefined) {
      if (flags.node !== '') throw new UsageError('--node goes with --redis');
      const store = new SqliteStore({ file: flags.db, fsync: flags.fsync });
      return {
        service: chatService({ store, maxFrameBytes, maxPending, counters }),
        ...listener,
        lastUserId: store.lastUserId,
        operatorDeps: { knownUsers: () => store.users(), directMessages: counters },
        close: () => store.close(),
      };
    }
    const node = flags.node === '' ? `${hostname()}-${process.pid}` : flags.node;
    return ClusterNode.join({ url: flags.redis, node, counters, log }).then((cluster) => {
      const { store, hub, ids, bus } = cluster;
      return {
        service: chatService({ store, maxFrameBytes, maxPending, counters, sharedStore: true }),
        ...listener,
        nextId: () => ids.take(),
        switchboard: hub,
        operatorDeps: {
          knownUsers: () => store.users(),
          directMessages: counters,
          cluster: { node, nodes: () => bus.nodes() },
        },
        follow: (update$: Observable<ServerUpdate>) => {
          let address = '';
          cluster.beat(
            update$.pipe(
              map(({ event, state }) => {
                if (event.type === 'listening') address = event.address;
                return { state, address };
              }),
            ),
          );
        },
        close: () => cluster.close(),
      };
    });
  },
});
