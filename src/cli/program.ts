import { describeError } from '../server/failure-text';
import { UsageError } from './flags';

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
