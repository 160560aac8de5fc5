import { UsageError } from './flags';

/** The text of a failure, in one line. */
export function describeError(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

/**
 * Runs a program's main: a UsageError prints one line with the usage and exits 2; any other
 * failure prints its message in one line and exits 1.
 */
export function runProgram(usage: string, main: () => void): void {
  try {
    main();
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}; usage: ${usage}\n`);
      process.exit(2);
    }
    process.stderr.write(`${describeError(error)}\n`);
    process.exit(1);
  }
}

/** Prints one line on stderr and exits with `code`. */
export function exitWith(code: number, message?: string): never {
  if (message !== undefined) process.stderr.write(`${message}\n`);
  process.exit(code);
}

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available on this machine',
  EACCES: 'permission denied',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/** A network error as a short phrase: "connection refused", "address already in use". */
export function describeNetworkError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return (code !== undefined ? NETWORK_ERRORS[code] : undefined) ?? describeError(error);
}
