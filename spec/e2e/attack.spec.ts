/**
 * The attack suite, short version: the real chat server, with its limits on, attacked all at
 * once while honest users chat. `npm run soak` runs the same mix for as long as asked, with a
 * database on disk and kill -9 of the server now and then (bench/soak.ts).
 */
import { expect } from 'chai';
import {
  addressFlood,
  AttackEnv,
  Books,
  checkExactlyOnce,
  connectionStorm,
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
} from '../support/attack-mix';
import { startChatServer, stopAll } from '../support/programs';

const LIMITS: Limits = { perIp: 40, rate: 400, burst: 800, frameTimeoutSec: 1, maxPending: 1500 };
const PAIRS = 6;
const ATTACK_MS = 6000;
const MEMORY_BOUND = 300 * 1024 * 1024;

describe('the chat server under attack', function () {
  this.timeout(60_000);
  /** What a test that failed half way must stop, so that mocha can exit. */
  const leftOver: (() => void)[] = [];
  afterEach(() => {
    for (const stop of leftOver.splice(0)) stop();
    stopAll();
  });

  it('delivers every honest message exactly once, counts its users exactly and stays small, whatever the attackers do', async () => {
    const server = await startChatServer(limitFlags(LIMITS));
    const memory = new MemoryWatch(() => server.child.pid);
    leftOver.push(() => memory.stop());
    const target: Target = { host: '127.0.0.1', port: server.port, epoch: 0 };
    const ledger = new Ledger();
    const gone = (endpoints: readonly string[]) =>
      server
        .when(`${endpoints.length} connections gone`, () =>
          endpointsGone(server.lines.stderr, endpoints) ? true : undefined,
        )
        .then(() => undefined);
    const log = () => server.lines.stderr;
    const env: AttackEnv = { target, limits: LIMITS, ledger, gone, log, crashes: false };
    const books: Books = new Map();

    const honest = new Report(
      'honest users',
      `${PAIRS} pairs chatting throughout: direct messages, echoes, acks`,
      'messages',
    );
    const users = Array.from(
      { length: 2 * PAIRS },
      (_, i) => new HonestUser(`#${i}`, { target, books, report: honest, crashes: false }),
    );
    leftOver.push(() => users.forEach((user) => user.dispose()));
    expect(await Promise.all(users.map((user) => user.join()))).to.not.include(false);
    users.forEach((user, i) => (user.partner = users[i ^ 1]));
    const victim = new HonestUser('victim', {
      target,
      books,
      report: honest,
      crashes: false,
      source: SOURCES.mailbox,
    });
    leftOver.push(() => victim.dispose());
    expect(await victim.join()).to.equal(true);
    await victim.leave();
    const victimId = victim.id as bigint;

    const reports = attackReports({
      slowloris: 'half a frame then nothing, part of a prefix, a frame a byte every 300 ms',
      flood: `100 connections at once from ${SOURCES.flood}, twice; each accepted one floods echoes`,
      mailbox: `4 connections flooding one offline user (--max-pending ${LIMITS.maxPending})`,
    });
    const mailbox = new MailboxFlood(env, reports.mailbox, books);

    users.forEach((user) => user.startChatting());
    const chattingFrom = Date.now();
    const stopAt = Date.now() + ATTACK_MS;
    const until = () => Date.now() > stopAt;
    await Promise.all([
      garbageClients(env, reports.garbage, 100_000, until),
      resettingClients(env, reports.resets, 100_000, until),
      connectionStorm(env, reports.storm, 100_000, until),
      slowloris(env, reports.slowloris, 15),
      addressFlood(env, reports.flood, 100, 2000, 2),
      mailbox.run(victimId, 4, 3000),
    ]);

    // Every attacker is gone once the server has logged each one's disconnection (or refusal).
    // The checks go into the reports, so that the table shows everything that held or not.
    const watched = new Report('the server', 'its user count, its log and its memory', 'checks');
    await gone([...ledger.endpoints]);
    for (const report of [reports.garbage, reports.resets, reports.storm, reports.slowloris]) {
      report.check(true, 'the server logs every one gone (disconnected, or refused)');
    }
    const during = await server.answer('num_users', /connected$/);
    watched.check(
      during === `${users.length} users connected`,
      'num_users is exact once the attackers are gone',
      `"${during}" with ${users.length} honest users connected`,
    );

    await Promise.all(users.map((user) => user.stopChatting()));
    honest.seconds = (Date.now() - chattingFrom) / 1000;
    for (const [i, user] of users.entries()) {
      const partner = users[i ^ 1] as HonestUser;
      const sent = user.sentTo(partner.id as bigint);
      honest.check(
        sent.maybe.length === 0,
        'every message of an honest user gets its receipt',
        `${sent.maybe.length} of ${user.name} never answered`,
      );
      const arrived = () => new Set(partner.received.get(user.id as bigint) ?? []);
      await waitUntil(() => sent.kept.every((seq) => arrived().has(seq)), 10_000);
      checkExactlyOnce(honest, user.id as bigint, sent, partner, `${user.name} to ${partner.name}`);
      honest.tried += user.figures.sent;
    }

    // The victim of the flood comes back and gets exactly what was stored for it, once each:
    // the mailbox full, and nothing more.
    expect(await victim.join()).to.equal(true);
    const sentToVictim = reports.mailbox.figures.get('direct messages sent') ?? 0;
    reports.mailbox.check(
      victim.pendingAtWelcome === Math.min(LIMITS.maxPending, sentToVictim),
      `the mailbox fills to --max-pending (${LIMITS.maxPending}) and no further`,
      `${victim.pendingAtWelcome} waiting after ${sentToVictim} sent`,
    );
    await waitUntil(() => victim.deliveriesHere >= victim.pendingAtWelcome, 10_000);
    for (const sent of mailbox.sentTo(victimId)) {
      checkExactlyOnce(reports.mailbox, sent.id, sent, victim, `flooder ${sent.id} to the victim`);
    }
    reports.mailbox.check(
      victim.figures.delivered === victim.pendingAtWelcome,
      'the victim gets every message kept for it',
      `${victim.figures.delivered} of ${victim.pendingAtWelcome}`,
    );
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
    reports.mailbox.count(
      'kept for the victim, delivered when it came back',
      victim.figures.delivered,
    );

    // The honest users leave: no one is left.
    await Promise.all([...users, victim].map((user) => user.leave()));
    await gone([...users, victim].map((user) => user.peer?.endpoint ?? ''));
    const after = await server.answer('num_users', /connected$/);
    watched.check(after === '0 users connected', 'num_users is 0 once everyone left', after);

    memory.stop();
    const peakMb = memory.peakBytes / 1024 / 1024;
    const unexpected = unexpectedLogLines(server.lines.stderr);
    watched.check(
      unexpected.length === 0,
      'nothing unexpected in its log',
      unexpected.slice(0, 5).join(' / '),
    );
    watched.check(
      memory.samples > 10 && memory.peakBytes < MEMORY_BOUND,
      `its memory stays under ${MEMORY_BOUND / 1024 / 1024} MB`,
      `peak ${peakMb.toFixed(1)} MB in ${memory.samples} samples`,
    );
    const count = (pattern: RegExp) => server.count('stderr', pattern);
    watched.count('connections', count(/^user \d+ connected from/));
    watched.count('refused', count(/^refused a connection from/));
    watched.count('protocol errors', count(/^protocol error from user/));
    watched.count('frame timeouts', count(/^limit for user \d+: a frame was begun/));
    watched.count('rate limited', count(/^limit for user \d+: more than/));
    watched.count('peak RSS (MB)', Math.round(peakMb));
    watched.check(
      (watched.figures.get('protocol errors') ?? 0) > 0,
      'the garbage is seen as such (protocol errors)',
    );
    watched.tried = watched.held.size + watched.failures.length;
    watched.seconds = (Date.now() - chattingFrom) / 1000;
    const all = [honest, ...Object.values(reports), watched];
    console.log(`\n${markdownTable(all)}\n`);
    const failures = all.flatMap((report) => report.failures.map((f) => `${report.name}: ${f}`));
    expect(failures).to.deep.equal([]);
  });
});
