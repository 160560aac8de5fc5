import { parseInt64 } from '../protocol/messages';
import { UserId } from './service';

export type OperatorCommand =
  | { readonly name: 'num_users' }
  | { readonly name: 'users' }
  | { readonly name: 'kick'; readonly id: UserId }
  | { readonly name: 'broadcast'; readonly text: string }
  | { readonly name: 'stats' }
  | { readonly name: 'nodes' }
  | { readonly name: 'help' }
  | { readonly name: 'quit' };

export const COMMAND_HELP: readonly string[] = [
  'num_users         how many users are connected',
  'users             one line per connected user, then the offline ones',
  "kick <id>         close a user's connection",
  'broadcast <text>  send a message from the operator to every user',
  'stats             uptime, users, connections and traffic',
  'nodes             the nodes of the cluster, their users, when each was last heard from',
  'help              this list',
  'quit              close every connection and stop the server',
];

const WITHOUT_ARGUMENTS = ['num_users', 'users', 'stats', 'nodes', 'help', 'quit'] as const;

function isWithoutArguments(name: string): name is (typeof WITHOUT_ARGUMENTS)[number] {
  return (WITHOUT_ARGUMENTS as readonly string[]).includes(name);
}

/** A console line as a command, a one-line error, or undefined for a blank line. */
export function parseCommand(
  line: string,
): OperatorCommand | { readonly error: string } | undefined {
  const match = /^\s*(\S+)(?:\s+(.*?))?\s*$/.exec(line);
  if (!match) return undefined;
  const [, name = '', argument = ''] = match;
  if (isWithoutArguments(name)) {
    return argument === '' ? { name } : { error: `${name} takes no arguments` };
  }
  switch (name) {
    case 'kick': {
      const id = parseInt64(argument);
      return id !== undefined && id.greaterThan(0)
        ? { name, id: id.toBigInt() }
        : { error: 'usage: kick <id>, where id is a user id as listed by users' };
    }
    case 'broadcast':
      return argument === '' ? { error: 'usage: broadcast <text>' } : { name, text: argument };
    default:
      return { error: `unknown command "${name}"; type help for the list of commands` };
  }
}
