import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { flag, parseFlags } from '../../cli/flags';
import { runProgram } from '../../cli/program';

/** Assignment 1, exercise 3: three threads greet, sleep for a random time, and say goodbye. */
const MAX_SLEEP_MS = 2000;

interface Greeting {
  readonly id: number;
  readonly sleepMs: number;
}

function greet({ id, sleepMs }: Greeting): void {
  parentPort?.postMessage(`Hi, I'm thread ${id}`);
  setTimeout(
    () => parentPort?.postMessage(`Bye from thread ${id}, after ${sleepMs} ms of sleep`),
    sleepMs,
  );
}

function spawnThreads(count: number): void {
  for (let id = 1; id <= count; id++) {
    const greeting: Greeting = { id, sleepMs: Math.floor(Math.random() * MAX_SLEEP_MS) };
    new Worker(__filename, { workerData: greeting })
      .on('message', (line: string) => process.stdout.write(`${line}\n`))
      .on('error', (error) => {
        process.stderr.write(`thread ${id} failed: ${error.message}\n`);
        process.exitCode = 1;
      });
  }
}

if (isMainThread) {
  runProgram('npm run a1:ex3 -- [--threads N]', () => {
    spawnThreads(parseFlags(process.argv.slice(2), { threads: flag.count(3, 1, 64) }).threads);
  });
} else {
  greet(workerData as Greeting);
}
