import { spawnSync } from 'node:child_process';

/** The open-file limit the bench starts its processes with, and why it is not more. */
export interface FileLimit {
  /** Their soft and hard limit. */
  readonly limit: number;
  /** What refused a raise of the hard limit to what was wanted; undefined when none was refused. */
  readonly refused?: string;
}

function hardLimit(): number {
  const text = spawnSync('bash', ['-c', 'ulimit -Hn']).stdout.toString().trim();
  return text === 'unlimited' ? Infinity : Number(text) || 1024;
}

/**
 * The open-file limit for the bench's processes: `wanted` when the hard limit is that high or can
 * be raised to it (as root with CAP_SYS_RESOURCE; tried in a shell of its own, as each process
 * will be started), else the hard limit as it is, with the shell's error.
 */
export function fileLimitFor(wanted: number): FileLimit {
  if (hardLimit() >= wanted) return { limit: wanted };
  const raise = spawnSync('bash', ['-c', `ulimit -n ${wanted}`]);
  if (raise.status === 0) return { limit: wanted };
  const refused = raise.stderr.toString().trim() || `ulimit -n ${wanted} exited ${raise.status}`;
  return { limit: hardLimit(), refused };
}

/** bash's arguments that run `command` with the limit as its soft and hard open-file limit. */
export const withFileLimit = (files: FileLimit, command: readonly string[]) => [
  '-c',
  'ulimit -n "$1" && shift && exec "$@"',
  'bench',
  String(files.limit),
  ...command,
];
