import { concatMap, map, Observable, take } from 'rxjs';
import { COMMAND_HELP, OperatorCommand, parseCommand } from './operator-commands';
import { ServerControl } from './server-events';
import { ServerState, UserRecord } from './server-state';

export type OperatorOutput = { readonly answer: string } | { readonly control: ServerControl };

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

function respond(command: OperatorCommand, state: ServerState, now: number): OperatorOutput[] {
  const { stats, traffic } = state;
  switch (command.name) {
    case 'num_users':
      return answers(`${plural(stats.usersNow, 'user')} connected`);
    case 'users':
      return state.users.size === 0
        ? answers('no users connected')
        : answers(...Array.from(state.users.values(), describeUser));
    case 'kick':
      return state.users.has(command.id)
        ? [{ answer: `kicking user ${command.id}` }, { control: { type: 'kick', id: command.id } }]
        : answers(`no user ${command.id} is connected`);
    case 'broadcast':
      return [
        { control: { type: 'broadcast', text: command.text } },
        { answer: `broadcast to ${plural(stats.usersNow, 'user')}` },
      ];
    case 'stats':
      return answers(
        `uptime ${formatDuration(now - stats.startedAt)}`,
        `users now ${stats.usersNow}, peak ${stats.peakUsers}`,
        `connections ${stats.totalConnections} accepted, ${stats.refused} refused`,
        `messages ${traffic.framesIn} in, ${traffic.framesOut} out`,
        `protocol errors ${stats.protocolErrors}`,
      );
    case 'help':
      return answers(...COMMAND_HELP);
    case 'quit':
      return [
        { answer: `shutting down: closing ${plural(stats.usersNow, 'connection')}` },
        { control: { type: 'shutdown' } },
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
  clock: () => number = Date.now,
): Observable<OperatorOutput> {
  return line$.pipe(
    concatMap((line) =>
      state$.pipe(
        take(1),
        map((state) => {
          const command = parseCommand(line);
          if (command === undefined) return [];
          return 'error' in command ? answers(command.error) : respond(command, state, clock());
        }),
      ),
    ),
    concatMap((outputs) => outputs),
  );
}
