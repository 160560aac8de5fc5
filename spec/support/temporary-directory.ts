import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopAll } from './programs';

/**
 * A fresh directory for each test of the suite it is called in, removed after the test along
 * with every program the test left running: `path()` is the current test's.
 */
export function eachTestInTemporaryDirectory(prefix: string): { path(): string } {
  let directory = '';
  beforeEach(() => (directory = mkdtempSync(join(tmpdir(), prefix))));
  afterEach(() => {
    stopAll();
    rmSync(directory, { recursive: true, force: true });
  });
  return { path: () => directory };
}
