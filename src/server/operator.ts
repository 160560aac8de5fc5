import { catchError, concatMap, map, Observable, ObservableInput, of, take } from 'rxjs';
import { DirectMessageCounters } from '../chat/direct-message-counters';
import { UserSummary } from '../store/chat-store';
import { LiveNode } from '../cluster/cluster-bus';
import { COMMAND_HELP, OperatorCommand, parseCommand } from './operator-commands';
import { ServerControl } from './server-events';
import { describeError } from './failure-text';
import { ServerState, UserRecord } from './server-state';
import { UserId } from './service';

export type OperatorOutput = { readonly answer: string } | { readonly control: ServerControl };

/** What the operator reads besides the server's state, where the server keeps users. */
export interface OperatorDeps {
  /** Every known user, with how many messages wait for it. */
  readonly knownUsers?: () => Observable<readonly UserSummary[]>;
  readonly directMessages?: Readonly<DirectMessageCounters>;
  /** The cluster this server is a node of, if any. */
  readonly cluster?: ClusterView;
}

/** What the operator of a node sees of its cluster. */
export interface ClusterView {
  /** This node's name. */
  readonly node: string;
  /** The live nodes with their users, as Redis has them now. */
  nodes(): Observable<readonly LiveNode[]>;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function formatDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const parts: [number, string][] = [
    [Math.floor(seconds / 86400), 'd'],
    [Math.floor(seconds / 3600) % 24, 'h'],
    [Math.floor(seconds / 60) % 60, 'm'],
    [seconds % 60, 's'],
  ];
  const first = parts.findIndex(([value]) => value > 0);
  return first < 0
    ? '0s'
    : parts
        .slice(first)
        .map(([value, unit]) => `${value}${unit}`)
        .join(' ');
}

function describeUser(user: UserRecord, node: string | undefined): string {
  const since = new Date(user.connectedAt).toISOString();
  const where = node === undefined ? '' : ` on node ${node}`;
  return `user ${user.id}${where} from ${user.remoteAddress}, connected since ${since}, ${user.traffic.framesIn} messages in, ${user.traffic.framesOut} out`;
}

function secondsAgo(then: number, now: number): string {
  return `${(Math.max(0, now - then) / 1000).toFixed(1)} s ago`;
}

function usersIn(nodes: readonly LiveNode[]): number {
  return nodes.reduce((sum, node) => sum + node.users.length, 0);
}

/**
 * The answer from the cluster's nodes, as Redis has them now; when they cannot be read, the
 * answer without them, and why.
 */
function fromCluster(
  cluster: ClusterView,
  answer: (nodes: readonly LiveNode[]) => OperatorOutput[],
  without: (why: string) => OperatorOutput[],
): ObservableInput<OperatorOutput[]> {
  return cluster.nodes().pipe(
    take(1),
    map(answer),
    catchError((error: unknown) =>
      of(without(`the cluster cannot be reached: ${describeError(error)}`)),
    ),
  );
}

function answers(...lines: string[]): OperatorOutput[] {
  return lines.map((answer) => ({ answer }));
}

function connectedUsers(state: ServerState, node?: string): string[] {
  return Array.from(state.users.values(), (user) => describeUser(user, node));
}

/** The users connected to the other nodes: where each is, by node. */
function remoteUsers(nodes: readonly LiveNode[], here: string): Map<UserId, string> {
  const where = new Map<UserId, string>();
  for (const { name, users } of nodes) {
    if (name !== here) for (const id of users) where.set(id, name);
  }
  return where;
}

function offlineUsers(known: readonly UserSummary[], online: (id: UserId) => boolean): string[] {
  return known
    .filter(({ id }) => !online(id))
    .map(({ id, waiting }) => `user ${id} offline, ${plural(Number(waiting), 'message')} waiting`);
}

/**
 * Connected users (on every node of a cluster, with the node each is on), then the known users
 * who are offline, with what waits for them.
 */
function listUsers(state: ServerState, deps: OperatorDeps): ObservableInput<OperatorOutput[]> {
  const { cluster, knownUsers } = deps;
  const noneYet = (lines: string[]) =>
    answers(...(lines.length === 0 ? ['no users connected'] : lines));
  const remote$: Observable<{ remote: Map<UserId, string>; trouble: string[] }> = cluster
    ? cluster.nodes().pipe(
        take(1),
        map((nodes) => ({ remote: remoteUsers(nodes, cluster.node), trouble: [] })),
        catchError((error: unknown) =>
          of({
            remote: new Map<UserId, string>(),
            trouble: [`cannot list the other nodes' users: ${describeError(error)}`],
          }),
        ),
      )
    : of({ remote: new Map<UserId, string>(), trouble: [] });
  const known$: Observable<{ known: readonly UserSummary[]; trouble: string[] }> = knownUsers
    ? knownUsers().pipe(
        take(1),
        map((known) => ({ known, trouble: [] })),
        catchError((error: unknown) =>
          of({ known: [], trouble: [`cannot list the offline users: ${describeError(error)}`] }),
        ),
      )
    : of({ known: [], trouble: [] });
  return remote$.pipe(
    concatMap(({ remote, trouble }) =>
      known$.pipe(
        map((known) => {
          const online = (id: UserId) => state.users.has(id) || remote.has(id);
          const connected = [
            ...connectedUsers(state, cluster?.node),
            ...Array.from(remote, ([id, node]) => `user ${id} on node ${node}`),
          ];
          return [
            ...noneYet(connected),
            ...answers(...offlineUsers(known.known, online), ...trouble, ...known.trouble),
          ];
        }),
      ),
    ),
  );
}

function numUsers(
  state: ServerState,
  cluster: ClusterView | undefined,
): ObservableInput<OperatorOutput[]> {
  const here = plural(state.stats.usersNow, 'user');
  if (!cluster) return [answers(`${here} connected`)];
  return fromCluster(
    cluster,
    (nodes) => answers(`${here} connected here, ${usersIn(nodes)} in the cluster`),
    (why) => answers(`${here} connected here; ${why}`),
  );
}

function kick(
  id: UserId,
  state: ServerState,
  cluster: ClusterView | undefined,
): ObservableInput<OperatorOutput[]> {
  const kicking = (where: string): OperatorOutput[] => [
    { answer: `kicking user ${id}${where}` },
    { control: { type: 'kick', id } },
  ];
  if (state.users.has(id)) return [kicking('')];
  const nobody = answers(`no user ${id} is connected`);
  if (!cluster) return [nobody];
  return fromCluster(
    cluster,
    (nodes) => {
      const node = nodes.find(({ users }) => users.includes(id));
      return node ? kicking(` on node ${node.name}`) : nobody;
    },
    (why) => answers(`no user ${id} is connected here; ${why}`),
  );
}

function broadcast(
  text: string,
  state: ServerState,
  cluster: ClusterView | undefined,
): ObservableInput<OperatorOutput[]> {
  const control: OperatorOutput = { control: { type: 'broadcast', text } };
  const here = state.stats.usersNow;
  if (!cluster) return [[control, { answer: `broadcast to ${plural(here, 'user')}` }]];
  return fromCluster(
    cluster,
    (nodes) => [
      control,
      { answer: `broadcast to ${plural(usersIn(nodes), 'user')} in the cluster` },
    ],
    (why) => [control, { answer: `broadcast to ${plural(here, 'user')} here; ${why}` }],
  );
}

function describeNode(node: LiveNode, here: string, now: number): string {
  const { status } = node;
  const self = node.name === here ? ' (this node)' : '';
  return `node ${node.name} at ${status.address}: ${plural(node.users.length, 'user')}, last heard ${secondsAgo(status.heardAt, now)}${self}`;
}

function nodeStats(node: LiveNode, now: number): string {
  const { status } = node;
  return `node ${node.name}: ${plural(node.users.length, 'user')}, messages ${status.framesIn} in, ${status.framesOut} out, direct messages ${status.stored} stored, ${status.delivered} delivered, ${status.acknowledged} acknowledged, ${status.refused} refused, heard ${secondsAgo(status.heardAt, now)}`;
}

function listNodes(
  cluster: ClusterView | undefined,
  now: number,
): ObservableInput<OperatorOutput[]> {
  if (!cluster) return [answers('this server is not a node of a cluster (see --redis)')];
  return fromCluster(
    cluster,
    (nodes) => answers(...nodes.map((node) => describeNode(node, cluster.node, now))),
    (why) => answers(why),
  );
}

function limitStats(limited: ServerState['stats']['limited']): string {
  return `limits: ${plural(limited['per-address'], 'connection')} refused per address, ${limited.rate} slowed down, ${limited.idle} closed idle, ${limited['frame-timeout']} closed with a frame unfinished`;
}

function directMessageStats(counters: Readonly<DirectMessageCounters> | undefined): string[] {
  if (!counters) return [];
  const { stored, delivered, acknowledged, refused } = counters;
  return [
    `direct messages ${stored} stored, ${delivered} delivered, ${acknowledged} acknowledged, ${refused} refused`,
  ];
}

function respond(
  command: OperatorCommand,
  state: ServerState,
  now: number,
  deps: OperatorDeps,
): ObservableInput<OperatorOutput[]> {
  const { stats, traffic } = state;
  switch (command.name) {
    case 'num_users':
      return numUsers(state, deps.cluster);
    case 'users':
      return listUsers(state, deps);
    case 'kick':
      return kick(command.id, state, deps.cluster);
    case 'broadcast':
      return broadcast(command.text, state, deps.cluster);
    case 'stats': {
      const lines = answers(
        `uptime ${formatDuration(now - stats.startedAt)}`,
        `users now ${stats.usersNow}, peak ${stats.peakUsers}`,
        `connections ${stats.totalConnections} accepted, ${stats.refused} refused`,
        `messages ${traffic.framesIn} in, ${traffic.framesOut} out`,
        ...directMessageStats(deps.directMessages),
        `protocol errors ${stats.protocolErrors}`,
        limitStats(stats.limited),
      );
      const { cluster } = deps;
      if (!cluster) return [lines];
      return fromCluster(
        cluster,
        (nodes) => [...lines, ...answers(...nodes.map((node) => nodeStats(node, now)))],
        (why) => [...lines, ...answers(why)],
      );
    }
    case 'nodes':
      return listNodes(deps.cluster, now);
    case 'help':
      return [answers(...COMMAND_HELP)];
    case 'quit':
      return [
        [
          { answer: `shutting down: closing ${plural(stats.usersNow, 'connection')}` },
          { control: { type: 'shutdown' } },
        ],
      ];
  }
}

/**
 * The server operator: each console line is answered from the server's latest state, and the
 * commands that act (kick, broadcast, quit) become controls for the server.
 */
export function operator(
  line$: Observable<string>,
  state$: Observable<ServerState>,
  deps: OperatorDeps = {},
  clock: () => number = Date.now,
): Observable<OperatorOutput> {
  return line$.pipe(
    concatMap((line) =>
      state$.pipe(
        take(1),
        concatMap((state): ObservableInput<OperatorOutput[]> => {
          const command = parseCommand(line);
          if (command === undefined) return [];
          return 'error' in command
            ? [answers(command.error)]
            : respond(command, state, clock(), deps);
        }),
      ),
    ),
    concatMap((outputs) => outputs),
  );
}
