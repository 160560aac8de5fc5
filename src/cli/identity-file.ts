import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ClientError } from '../client/client-error';
import { formatIdentity, Identity, parseIdentity } from '../client/identity';
import { describeNetworkError } from '../transport/network-errors';

/** The identity kept in `file`, or undefined when there is no such file yet. */
export function readIdentityFile(file: string): Identity | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return parseIdentity(readFileSync(file, 'utf8'));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot use the identity file ${file}: ${reason}`, { cause: error });
  }
}

/**
 * Keeps `identity` in `file`, readable by its owner only. It is written beside the file and
 * renamed over it, so that a crash leaves the old identity or the new one, never half of one.
 */
export function writeIdentityFile(file: string, identity: Identity): void {
  const partial = `${file}.partial`;
  try {
    writeFileSync(partial, formatIdentity(identity), { mode: 0o600 });
    renameSync(partial, file);
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    const reason = missing ? 'its directory does not exist' : describeNetworkError(error);
    throw new ClientError(`cannot keep the identity in ${file}: ${reason}`, { cause: error });
  }
}
