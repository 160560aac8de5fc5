import { ChildProcess, spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const root = join(__dirname, '..', '..');

/** A compiled program of this project, by its path under dist/. */
export function program(path: string): string {
  return join(root, 'dist', path);
}

type Stream = 'stdout' | 'stderr';

/** A program running in a child process, whose output lines can be awaited. */
export class RunningProgram {
  readonly lines: Record<Stream, string[]> = { stdout: [], stderr: [] };
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly newLine = new EventEmitter();

  constructor(readonly child: ChildProcess) {
    for (const stream of ['stdout', 'stderr'] as const) {
      const source = child[stream];
      if (!source) continue;
      createInterface({ input: source }).on('line', (line) => {
        this.lines[stream].push(line);
        this.newLine.emit('line');
      });
    }
    this.exited = once(child, 'close').then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
    }));
  }

  /** The first line on `stream` that matches, as soon as it is printed. */
  line(stream: Stream, pattern: RegExp): Promise<string> {
    return this.until(`${pattern} on ${stream}`, () =>
      this.lines[stream].find((line) => pattern.test(line)),
    );
  }

  /** Types `input` on stdin and waits for the first line after it that matches. */
  answer(input: string, pattern: RegExp, stream: Stream = 'stdout'): Promise<string> {
    const before = this.lines[stream].length;
    this.child.stdin?.write(`${input}\n`);
    return this.until(`an answer to ${input}`, () =>
      this.lines[stream].slice(before).find((line) => pattern.test(line)),
    );
  }

  /** How many lines on `stream` match. */
  count(stream: Stream, pattern: RegExp): number {
    return this.lines[stream].filter((line) => pattern.test(line)).length;
  }

  /** Waits until `count` lines on `stream` match. */
  async lineCount(stream: Stream, pattern: RegExp, count: number): Promise<void> {
    await this.until(`${count} lines ${pattern}`, () =>
      this.count(stream, pattern) >= count ? true : undefined,
    );
  }

  /** Waits until `find` finds something, looking again at each line printed; `what` names it. */
  when<T>(what: string, find: () => T | undefined): Promise<T> {
    return this.until(what, find);
  }

  private async until<T>(what: string, find: () => T | undefined): Promise<T> {
    for (;;) {
      const found = find();
      if (found !== undefined) return found;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`exited before ${what}: ${this.lines.stderr.join(' / ')}`);
      }
      await Promise.race([once(this.newLine, 'line'), this.exited]);
    }
  }

  stop(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

const running = new Set<RunningProgram>();

/** Starts a program; `stdin` is written and closed, or left open as a pipe when undefined. */
export function start(path: string, args: string[], stdin?: string): RunningProgram {
  const child = spawn(process.execPath, [program(path), ...args], { stdio: 'pipe' });
  if (stdin !== undefined) child.stdin.end(stdin);
  const started = new RunningProgram(child);
  running.add(started);
  void started.exited.then(() => running.delete(started));
  return started;
}

/** Runs a program to its end. */
export async function run(path: string, args: string[], stdin = '') {
  const started = start(path, args, stdin);
  const { code } = await started.exited;
  return { code, stdout: started.lines.stdout, stderr: started.lines.stderr };
}

/** Starts a server on a free port and waits until it listens. */
export async function startServer(path: string, args: string[] = [], stdin?: string) {
  const server = start(path, ['--port', '0', ...args], stdin);
  const listening = await server.line('stderr', /^listening on /);
  const port = Number(/:(\d+)$/.exec(listening)?.[1]);
  return Object.assign(server, { port });
}

export const CHAT_SERVER = 'cli/server.js';

/** Starts the chat server on a free port, keeping nothing (`--db :memory:`) unless told where. */
export function startChatServer(args: string[] = [], stdin?: string) {
  const db = args.includes('--db') ? [] : ['--db', ':memory:'];
  return startServer(CHAT_SERVER, [...db, ...args], stdin);
}

/** Kills whatever a test left running. */
export function stopAll(): void {
  for (const started of running) started.stop();
}
