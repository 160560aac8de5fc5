/**
 * `npm run soak -- --duration SEC`: the attack suite, long version. The chat server, with its
 * limits on and a real SQLite file (--db in a temporary directory), is attacked by the mix of
 * spec/e2e/attack.spec.ts in rounds for SEC seconds while honest users chat, and killed with
 * SIGKILL at random moments, then started again on the same database. Honest users resume with
 * hello{id, secret} and check that nothing acknowledged is lost or duplicated across restarts.
 * At the end it prints a markdown table of what was tried and what held; exit code 1 if any
 * check failed. docs/attack-suite.md explains each attack.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addressFlood,
  AttackEnv,
  Books,
  checkExactlyOnce,
  connectionStorm,
  delay,
  endpointsGone,
  garbageClients,
  HonestUser,
  Ledger,
  limitFlags,
  Limits,
  MailboxFlood,
  markdownTable,
  MemoryWatch,
  attackReports,
  Report,
  resettingClients,
  slowloris,
  SOURCES,
  Target,
  unexpectedLogLines,
  waitUntil,
} from '../spec/support/attack-mix';
import { RunningProgram } from '../spec/support/programs';

const ROOT = join(__dirname, '..', '..');
const SERVER = join(ROOT, 'dist', 'cli', 'server.js');
const LIMITS: Limits = { perIp: 40, rate: 400, burst: 800, frameTimeoutSec: 1, maxPending: 1500 };
const PAIRS = 6;
const ROUND_MS = 8000;
const MEMORY_BOUND = 300 * 1024 * 1024;
const START_DEADLINE_MS = 15_000;

function durationFromArgs(): number {
  const args = process.argv.slice(2);
  const at = args.indexOf('--duration');
  const text = at >= 0 ? args[at + 1] : '60';
  const seconds = Number(text);
  if (args.some((arg, i) => arg !== '--duration' && i !== at + 1) || !(seconds >= 10)) {
    process.stderr.write(
      'usage: npm run soak -- [--duration SEC] (SEC at least 10; 60 by default)\n',
    );
    process.exit(2);
  }
  return seconds;
}

/** The server, one process after another on the same port and database. */
class Incarnations {
  readonly all: RunningProgram[] = [];
  current: RunningProgram | undefined;
  port = 0;

  constructor(private readonly db: string) {}

  /** Starts a server; resolves with its port once it says `listening on`, or throws. */
  async start(): Promise<number> {
    const child = spawn(
      process.execPath,
      [SERVER, '--port', String(this.port), '--db', this.db, ...limitFlags(LIMITS)],
      { stdio: 'pipe' },
    );
    const server = new RunningProgram(child);
    this.all.push(server);
    this.current = server;
    let timer: NodeJS.Timeout | undefined;
    const listening = await Promise.race([
      server.line('stderr', /^listening on /),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no "listening on" in time')), START_DEADLINE_MS);
      }),
    ]).finally(() => clearTimeout(timer));
    this.port = Number(/:(\d+)$/.exec(listening)?.[1]);
    return this.port;
  }

  async kill(): Promise<void> {
    const server = this.current;
    if (!server) return;
    server.child.kill('SIGKILL');
    await server.exited;
  }

  stopAll(): void {
    for (const server of this.all) server.stop();
  }
}

/** A line on stderr with the time since the start, for whoever watches a long run. */
let startedAt = Date.now();
let lastProgress = 'starting';
const progress = (text: string) => {
  lastProgress = text;
  process.stderr.write(`[${((Date.now() - startedAt) / 1000).toFixed(1)} s] ${text}\n`);
};

async function main(): Promise<number> {
  const durationMs = durationFromArgs() * 1000;
  const directory = mkdtempSync(join(tmpdir(), 'chat-soak-'));
  const servers = new Incarnations(join(directory, 'chat.db'));
  // A soak that hangs is a failure too: two minutes past its time, it says where it was.
  setTimeout(() => {
    process.stderr.write(`the soak did not finish in time; it was at: ${lastProgress}\n`);
    servers.stopAll();
    rmSync(directory, { recursive: true, force: true });
    process.exit(1);
  }, durationMs + 120_000).unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      servers.stopAll();
      rmSync(directory, { recursive: true, force: true });
      process.exit(130);
    });
  }
  const began = Date.now();
  startedAt = began;
  const crash = new Report(
    'kill -9 and restart',
    'SIGKILL of the server at random moments, then a restart on the same --db; honest users resume with hello{id, secret}',
    'kills',
  );
  try {
    await servers.start();
  } catch (error) {
    process.stderr.write(`the server did not start: ${String(error)}\n`);
    return 1;
  }
  const target: Target = { host: '127.0.0.1', port: servers.port, epoch: 0, incarnation: 0 };
  const memory = new MemoryWatch(() => servers.current?.child.pid);
  const current = () => servers.current as RunningProgram;
  const gone = async (endpoints: readonly string[]) => {
    const epoch = target.epoch;
    const server = current();
    await server
      .when(`${endpoints.length} connections gone`, () =>
        epoch !== target.epoch || endpointsGone(server.lines.stderr, endpoints) ? true : undefined,
      )
      .catch(() => undefined); // killed meanwhile: the new server never knew them
  };

  const books: Books = new Map();
  const honest = new Report(
    'honest users',
    `${PAIRS} pairs chatting throughout (direct messages, echoes, acks), each now and then away for a while and back`,
    'messages',
  );
  const users = Array.from(
    { length: 2 * PAIRS },
    (_, i) => new HonestUser(`#${i}`, { target, books, report: honest, crashes: true }),
  );
  await Promise.all(users.map((user) => user.join()));
  users.forEach((user, i) => (user.partner = users[i ^ 1]));
  const victim = new HonestUser('victim', {
    target,
    books,
    report: honest,
    crashes: true,
    source: SOURCES.mailbox,
  });
  await victim.join();
  await victim.leave();
  const victimId = victim.id ?? 0n;

  const reports = attackReports({
    slowloris:
      'half a frame then nothing, part of a prefix, a frame a byte every 300 ms; quiet clients beside them',
    flood: `100 connections at once from ${SOURCES.flood} each round; each accepted one floods echoes`,
    mailbox: `3 connections a round flooding one offline user (--max-pending ${LIMITS.maxPending}); it drains its mailbox between rounds`,
  });
  const everyAttack = Object.values(reports);

  users.forEach((user) => user.startChatting());
  const chattingFrom = Date.now();
  const endAt = began + durationMs;
  const state = { running: true };
  /** Read through a call: the loops below await while others change it. */
  const isRunning = () => state.running;

  // Honest users go away for a while and come back, resuming.
  const wandering = (async () => {
    while (state.running) {
      await delay(1000 + Math.random() * 2000);
      if (!isRunning()) break;
      const user = users[Math.floor(Math.random() * users.length)] as HonestUser;
      await user.leave();
      honest.count('times away and back');
      await delay(300 + Math.random() * 1500);
      await user.join(30_000);
    }
  })();

  // kill -9 at random moments, never two within 5 s, and restart on the same database.
  const kills = Math.max(3, Math.round(durationMs / 15_000));
  const killAt = Array.from({ length: kills }, () => 0.1 + Math.random() * 0.75)
    .sort((a, b) => a - b)
    .map((fraction) => began + fraction * durationMs);
  for (let i = 1; i < killAt.length; i++) {
    killAt[i] = Math.max(killAt[i] as number, (killAt[i - 1] as number) + 5000);
  }
  const killing = (async () => {
    for (const at of killAt) {
      await delay(Math.max(0, at - Date.now()));
      if (Date.now() > endAt - 3000) break;
      crash.tried++;
      progress(`kill -9 of the server (pid ${current().child.pid ?? '?'})`);
      const killed = Date.now();
      target.epoch++;
      await servers.kill();
      // From here on a connection reaches the next server.
      target.incarnation = (target.incarnation ?? 0) + 1;
      try {
        await servers.start();
        crash.check(
          true,
          'the store opens cleanly after every kill (the server says listening on)',
        );
      } catch (error) {
        crash.fail(
          `the server did not start again on its database: ${String(error)}: ${current().lines.stderr.slice(-3).join(' / ')}`,
        );
        state.running = false;
        return;
      }
      const down = Date.now() - killed;
      progress(`the server is back on its database after ${down} ms`);
      crash.seconds += down / 1000;
      crash.max('longest restart (ms)', down);
      crash.count('kills survived');
    }
  })();

  // Rounds of the attack mix until the end; each round's connections are waited out.
  const ledger = new Ledger(target);
  const log = () => current().lines.stderr;
  const env: AttackEnv = { target, limits: LIMITS, ledger, gone, log, crashes: true };
  const mailbox = new MailboxFlood(env, reports.mailbox, books);
  let rounds = 0;
  while (state.running && Date.now() < endAt - 2000) {
    rounds++;
    progress(`round ${rounds} of the attack mix`);
    const epoch = target.epoch;
    const first = ledger.entries.length;
    const roundEnd = Math.min(Date.now() + ROUND_MS, endAt - 1000);
    const until = () => Date.now() > roundEnd || !state.running;
    const floodMs = Math.max(1000, Math.min(3000, roundEnd - Date.now() - 1000));
    await Promise.all([
      garbageClients(env, reports.garbage, 1_000_000, until),
      resettingClients(env, reports.resets, 1_000_000, until),
      connectionStorm(env, reports.storm, 1_000_000, until),
      slowloris(env, reports.slowloris, 9),
      addressFlood(env, reports.flood, 100, floodMs, 1),
      mailbox.run(victimId, 3, floodMs),
    ]);
    progress(`round ${rounds}: waiting for its connections to be gone`);
    if (epoch === target.epoch) {
      await gone(ledger.endpoints.slice(first));
      for (const report of [reports.garbage, reports.resets, reports.storm, reports.slowloris]) {
        report.check(true, 'the server logs every one gone (disconnected, or refused)');
      }
    } else {
      for (const report of everyAttack) report.interrupted++;
    }
    // The victim drains what was kept for it.
    progress(`round ${rounds}: the victim drains its mailbox`);
    await victim.join(30_000);
    await waitUntil(() => victim.deliveriesHere >= victim.pendingAtWelcome, 10_000);
    await victim.leave();
  }
  state.running = false;
  await killing;
  await wandering;

  // The end, with the server up and no more kills: everyone back, the attackers gone.
  progress('the end: everyone back, the attackers gone, num_users');
  await Promise.all(users.map((user) => (user.online ? Promise.resolve(true) : user.join(30_000))));
  await gone(ledger.endpointsOf(target.incarnation ?? 0));
  const answer = await current()
    .answer('num_users', /connected$/)
    .catch((error: unknown) => String(error));
  crash.check(
    answer === `${users.length} users connected`,
    'num_users is exact once the attackers are gone',
    `"${answer}" with ${users.length} honest users connected`,
  );
  progress('the honest users stop and check what they were delivered');
  await Promise.all(users.map((user) => user.stopChatting(30_000)));
  honest.seconds = (Date.now() - chattingFrom) / 1000;
  let exactlyOnce = true;
  for (const [i, user] of users.entries()) {
    const partner = users[i ^ 1] as HonestUser;
    const sent = user.sentTo(partner.id ?? 0n);
    const arrived = () => new Set(partner.received.get(user.id ?? 0n) ?? []);
    await waitUntil(() => sent.kept.every((seq) => arrived().has(seq)), 15_000);
    exactlyOnce &&= checkExactlyOnce(
      honest,
      user.id ?? 0n,
      sent,
      partner,
      `${user.name} to ${partner.name}`,
    );
    honest.tried += user.figures.sent;
    honest.count('sent, no receipt before a kill (may arrive or not)', sent.maybe.length);
  }
  await victim.join(30_000);
  await waitUntil(() => victim.deliveriesHere >= victim.pendingAtWelcome, 15_000);
  for (const sent of mailbox.sentTo(victimId)) {
    exactlyOnce &&= checkExactlyOnce(
      reports.mailbox,
      sent.id,
      sent,
      victim,
      `flooder ${sent.id} to the victim`,
    );
  }
  const sum = (pick: (user: HonestUser) => number) =>
    users.reduce((total, user) => total + pick(user), 0);
  honest.count(
    'direct messages delivered',
    sum((user) => user.figures.delivered),
  );
  honest.count(
    'echoes',
    sum((user) => user.figures.echoed),
  );
  honest.count(
    'redeliveries dropped as seen',
    sum((user) => user.figures.duplicatesDropped) + victim.figures.duplicatesDropped,
  );
  honest.count(
    'resumes after a kill',
    sum((user) => user.figures.resumes),
  );
  honest.count('flood messages kept for the victim and delivered to it', victim.figures.delivered);
  crash.check(
    honest.failures.length === 0 && exactlyOnce,
    'nothing acknowledged is lost or duplicated across restarts',
  );

  progress('everyone leaves');
  await Promise.all([...users, victim].map((user) => user.leave()));
  await gone([...users, victim].map((user) => user.peer?.endpoint ?? ''));
  const empty = await current()
    .answer('num_users', /connected$/)
    .catch((error: unknown) => String(error));
  crash.check(empty === '0 users connected', 'num_users is 0 once everyone left', empty);

  memory.stop();
  const lines = servers.all.flatMap((server) => server.lines.stderr);
  const unexpected = unexpectedLogLines(lines);
  const server = new Report(
    'the server',
    'its log and its memory, over every incarnation',
    'incarnations',
  );
  server.tried = servers.all.length;
  server.seconds = (Date.now() - began) / 1000;
  server.check(
    unexpected.length === 0,
    'nothing unexpected in its log',
    unexpected.slice(0, 5).join(' / '),
  );
  server.check(
    memory.peakBytes < MEMORY_BOUND,
    `its memory stays under ${MEMORY_BOUND / 1024 / 1024} MB`,
    `peak ${(memory.peakBytes / 1024 / 1024).toFixed(1)} MB`,
  );
  const count = (pattern: RegExp) => lines.filter((line) => pattern.test(line)).length;
  server.count('connections', count(/^user \d+ connected from/));
  server.count('refused', count(/^refused a connection from/));
  server.count('protocol errors', count(/^protocol error from user/));
  server.count('frame timeouts', count(/^limit for user \d+: a frame was begun/));
  server.count('rate limited', count(/^limit for user \d+: more than/));
  server.count('peak RSS (MB)', Math.round(memory.peakBytes / 1024 / 1024));

  current().child.stdin?.end('quit\n');
  await Promise.race([current().exited, delay(3000)]);
  servers.stopAll();
  rmSync(directory, { recursive: true, force: true });

  const all = [honest, ...everyAttack, crash, server];
  const badInputs = [...reports.garbage.figures]
    .filter(([name]) => name.startsWith('bad inputs'))
    .reduce((total, [, value]) => total + value, 0);
  const messages =
    honest.tried +
    (reports.flood.figures.get('messages sent') ?? 0) +
    (reports.mailbox.figures.get('direct messages sent') ?? 0);
  const failures = all.flatMap((report) =>
    report.failures.map((failure) => `${report.name}: ${failure}`),
  );
  process.stdout.write(
    [
      `## Soak: ${(durationMs / 1000).toFixed(0)} s, ${rounds} rounds of the attack mix`,
      '',
      markdownTable(all),
      '',
      '| figure | value |',
      '| --- | --- |',
      `| connections accepted | ${server.figures.get('connections') ?? 0} |`,
      `| connections refused | ${server.figures.get('refused') ?? 0} |`,
      `| messages sent (honest, flood, direct-message flood) | ${messages} |`,
      `| bad inputs sent | ${badInputs} (${reports.garbage.figures.get('bad bytes') ?? 0} bytes) |`,
      `| protocol errors logged | ${server.figures.get('protocol errors') ?? 0} |`,
      `| peak server memory (RSS) | ${(memory.peakBytes / 1024 / 1024).toFixed(1)} MB |`,
      `| kills survived | ${crash.figures.get('kills survived') ?? 0} of ${crash.tried} |`,
      `| result | ${failures.length === 0 ? 'every check held' : `**${failures.length} checks failed**`} |`,
      '',
      ...(failures.length > 0
        ? ['Failures:', '', ...failures.map((failure) => `- ${failure}`), '']
        : []),
    ].join('\n'),
  );
  return failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `soak failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
