import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** A port no one listens on now, from the system. */
async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const address = probe.address();
  probe.close();
  await once(probe, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port from the system');
  return address.port;
}

/**
 * A real redis-server (Debian's package) on a free port of 127.0.0.1, its data (AOF, fsync at
 * every write) in a temporary directory of its own. It can be stopped and started again on the
 * same port and data, as an operator would; `remove()` kills it by its process id and deletes
 * the directory.
 */
export class RedisProcess {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    readonly directory: string,
  ) {}

  static async start(): Promise<RedisProcess> {
    const redis = new RedisProcess(await freePort(), mkdtempSync(join(tmpdir(), 'chat-redis-')));
    await redis.restart();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts it (again) and resolves once it accepts connections. */
  async restart(): Promise<void> {
    if (this.child) throw new Error('redis-server is running already');
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.directory];
    const persistence = ['--appendonly', 'yes', '--appendfsync', 'always', '--save', ''];
    const child = spawn('redis-server', [...args, ...persistence], { stdio: 'pipe' });
    this.child = child;
    const lines = createInterface({ input: child.stdout });
    const log: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const exited = () => reject(new Error(`redis-server exited: ${log.slice(-3).join(' / ')}`));
      child.once('exit', exited);
      child.once('error', reject);
      lines.on('line', (line) => {
        log.push(line);
        if (!/Ready to accept connections/.test(line)) return;
        child.off('exit', exited);
        resolve();
      });
    });
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
    });
  }

  /** Stops it: SIGTERM, as `systemctl stop` does (it flushes its AOF), or SIGKILL. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
    this.child = undefined;
  }

  async remove(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.directory, { recursive: true, force: true });
  }
}
