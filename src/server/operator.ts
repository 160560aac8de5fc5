import { catchError, concatMap, map, Observable, ObservableInput, of, take } from 'rxjs';
import { DirectMessageCounters } from '../chat/direct-message-counters';
import { UserSummary } from '../store/chat-store';
import { COMMAND_HELP, OperatorCommand, parseCommand } from './operator-commands';
import { ServerControl } from './server-events';
import { ServerState, UserRecord } from './server-state';

export type OperatorOutput = { readonly answer: string } | { readonly control: ServerControl };

/** What the operator reads besides the server's state, where the server keeps users. */
export interface OperatorDeps {
  /** Every known user, with how many messages wait for it. */
  readonly knownUsers?: () => Observable<readonly UserSummary[]>;
  readonly directMessages?: Readonly<DirectMessageCounters>;
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

function describeUser(user: UserRecord): string {
  const since = new Date(user.connectedAt).toISOString();
  return `user ${user.id} from ${user.remoteAddress}, connected since ${since}, ${user.traffic.framesIn} messages in, ${user.traffic.framesOut} out`;
}

function answers(...lines: string[]): OperatorOutput[] {
  return lines.map((answer) => ({ answer }));
}

function connectedUsers(state: ServerState): OperatorOutput[] {
  return state.users.size === 0
    ? answers('no users connected')
    : answers(...Array.from(state.users.values(), describeUser));
}

/** Connected users, then the known users who are offline, with what waits for them. */
function listUsers(state: ServerState, deps: OperatorDeps): ObservableInput<OperatorOutput[]> {
  if (!deps.knownUsers) return [connectedUsers(state)];
  return deps.knownUsers().pipe(
    map((known) => [
      ...connectedUsers(state),
      ...answers(
        ...known
          .filter(({ id }) => !state.users.has(id))
          .map(
            ({ id, waiting }) =>
              `user ${id} offline, ${plural(Number(waiting), 'message')} waiting`,
          ),
      ),
    ]),
    catchError((error: unknown) =>
      of([
        ...connectedUsers(state),
        ...answers(
          `cannot list the offline users: ${error instanceof Error ? error.message : String(error)}`,
        ),
      ]),
    ),
  );
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
      return [answers(`${plural(stats.usersNow, 'user')} connected`)];
    case 'users':
      return listUsers(state, deps);
    case 'kick':
      return [
        state.users.has(command.id)
          ? [
              { answer: `kicking user ${command.id}` },
              { control: { type: 'kick', id: command.id } },
            ]
          : answers(`no user ${command.id} is connected`),
      ];
    case 'broadcast':
      return [
        [
          { control: { type: 'broadcast', text: command.text } },
          { answer: `broadcast to ${plural(stats.usersNow, 'user')}` },
        ],
      ];
    case 'stats':
      return [
        answers(
          `uptime ${formatDuration(now - stats.startedAt)}`,
          `users now ${stats.usersNow}, peak ${stats.peakUsers}`,
          `connections ${stats.totalConnections} accepted, ${stats.refused} refused`,
          `messages ${traffic.framesIn} in, ${traffic.framesOut} out`,
          ...directMessageStats(deps.directMessages),
          `protocol errors ${stats.protocolErrors}`,
        ),
      ];
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
