/**
 * `npm run bench`: the chat server against the baseline (bench/baseline-server.ts), cell by cell,
 * alternating, in one run; then the server alone with direct messages, a cluster of two of them
 * on one redis-server with the same load, idle connections held, and the server's cells again
 * over TLS. It prints the tables and the targets on stdout and writes the raw results under
 * bench/results/. bench/README.md explains how to read them.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { makeCertificate, missingOpenssl } from '../spec/support/certificates';
import { RedisProcess } from '../spec/support/redis-server';
import { FileLimit, fileLimitFor, withFileLimit } from './file-limit';

const ROOT = join(__dirname, '..', '..');
const RUNS = 3;
const MESSAGE_BYTES = 32;
/**
 * The TLS cells run in the first TLS_RUNS runs only, and the connections over TLS in the first
 * TLS_CONNECTION_RUNS (a TLS handshake costs about a millisecond of CPU at each end), to keep the
 * bench short.
 */
const TLS_RUNS = 2;
const TLS_CONNECTION_RUNS = 1;
/** A TLS echo cell sends this share of its plain cell's messages: TLS makes them about 5x slower. */
const TLS_MESSAGE_SHARE = 1 / 4;
const CONNECTIONS = 50_000;
/** Open files a process needs besides its connections: the server's database, its WAL, stdio, … */
const FILE_MARGIN = 100;
const HOLD_SECONDS = 2;

interface Candidate {
  readonly name: 'server' | 'baseline' | 'floor';
  readonly script: string;
  /** It keeps a database: each start gets a fresh one in a temporary directory, deleted when it stops. */
  readonly keepsDatabase: boolean;
  /** The flags it needs to take `connections` connections at once. */
  readonly holding: (connections: number) => string[];
}

const SERVER: Candidate = {
  name: 'server',
  script: 'dist/cli/server.js',
  keepsDatabase: true,
  holding: (connections) => ['--max-clients', String(connections)],
};
const BASELINE: Candidate = {
  name: 'baseline',
  script: 'dist/bench/baseline-server.js',
  keepsDatabase: false,
  holding: () => [],
};
const CANDIDATES: readonly Candidate[] = [SERVER, BASELINE];
/**
 * What node:net itself costs for the echo and for direct messages, nothing stored
 * (bench/floor-server.ts): in the target cells, for reference.
 */
const FLOOR: Candidate = {
  name: 'floor',
  script: 'dist/bench/floor-server.js',
  keepsDatabase: false,
  holding: () => [],
};

interface Cell {
  readonly clients: number;
  readonly window: number;
  /**
   * Messages per client: about two seconds of work for the server; at `100x1`, whose p99 is a
   * target, about ten, since the load tester's first second (a fresh process, compiling its
   * code) holds most of its slowest echoes: 1,000 a client gave p99s of 12–14 ms, 3,000 of 7–10.
   */
  readonly messages: number;
}

const CELLS: readonly Cell[] = [
  { clients: 1, window: 1, messages: 20_000 },
  { clients: 10, window: 32, messages: 60_000 },
  { clients: 100, window: 1, messages: 3_000 },
  { clients: 100, window: 32, messages: 15_000 },
  { clients: 1000, window: 32, messages: 1_500 },
];

const cellName = (cell: Cell) => `${cell.clients}x${cell.window}`;

/** The echo cells issue 10 sets targets for, and that run again over TLS. */
const TARGET_CELLS = ['100x32', '1000x32'];

/** How the clients reach the server: plain TCP, or TLS with a certificate the bench makes. */
interface Wire {
  readonly name: 'plain' | 'TLS';
  readonly serverArgs: readonly string[];
  readonly clientArgs: readonly string[];
}

const PLAIN: Wire = { name: 'plain', serverArgs: [], clientArgs: [] };

/**
 * TLS with a fresh self-signed pair in `directory` (openssl, an EC key), the load tester not
 * verifying it; or why there is none.
 */
function tlsWire(directory: string): Wire | string {
  const missing = missingOpenssl();
  if (missing !== undefined) return missing;
  const { certFile, keyFile } = makeCertificate(directory, 'bench');
  return {
    name: 'TLS',
    serverArgs: ['--tls-cert', certFile, '--tls-key', keyFile],
    clientArgs: ['--tls'],
  };
}

/** A cell of direct messages, for the server alone: the baseline has none. */
interface DirectCell {
  readonly name: string;
  /** Pairs of clients: online, each sends its partner; offline, one of each pair is away. */
  readonly pairs: number;
  readonly window: number;
  /** Messages each sender sends: about two seconds of work for the server. */
  readonly messages: number;
  readonly offline: boolean;
}

const DIRECT_ONLINE: DirectCell = {
  name: 'direct 100 pairs x32',
  pairs: 100,
  window: 32,
  messages: 1_000,
  offline: false,
};
const DIRECT_OFFLINE: DirectCell = {
  name: 'offline 100 users x32',
  pairs: 100,
  window: 32,
  messages: 2_000,
  offline: true,
};
const DIRECT_CELLS: readonly DirectCell[] = [DIRECT_ONLINE, DIRECT_OFFLINE];

/**
 * Direct messages through a cluster: `nodes` servers sharing one redis-server, the two users of
 * every pair on different nodes; the same load as the single server's online direct cell.
 */
interface ClusterCell {
  readonly name: string;
  readonly nodes: number;
  readonly pairs: number;
  readonly window: number;
  readonly messages: number;
}

const CLUSTER_CELL: ClusterCell = {
  name: 'cluster 2 nodes 100 pairs x32',
  nodes: 2,
  pairs: DIRECT_ONLINE.pairs,
  window: DIRECT_ONLINE.window,
  messages: DIRECT_ONLINE.messages,
};

interface Rate {
  messages: number;
  seconds: number;
  messagesPerSecond: number;
}

interface Summary {
  connections: number;
  sourceAddresses: number;
  handshakeSeconds: number;
  echoedMessages: number;
  deliveredMessages: number;
  expectedMessages: number;
  seconds: number;
  messagesPerSecond: number;
  stored?: Rate;
  resumed?: Rate;
  latencyMicros: { p50: number; p90: number; p99: number; max: number };
  errors: number;
  firstErrors: string[];
}

interface LoadRun {
  subject: Candidate['name'];
  wire: Wire['name'];
  cell: string;
  run: number;
  messagesPerSecond: number;
  p50Micros: number;
  p99Micros: number;
  cpuSecondsPerMillion: number;
  peakRssMegabytes: number;
  errors: number;
}

interface DirectRun {
  wire: Wire['name'];
  cell: string;
  run: number;
  deliveredPerSecond: number;
  storedPerSecond: number;
  p50Micros: number;
  p99Micros: number;
  cpuMicrosPerMessage: number;
  peakRssMegabytes: number;
  errors: number;
}

interface ClusterRun {
  cell: string;
  run: number;
  deliveredPerSecond: number;
  p50Micros: number;
  p99Micros: number;
  /** Both nodes' CPU and redis-server's, per message delivered. */
  cpuMicrosPerMessage: number;
  nodesCpuMicrosPerMessage: number;
  redisCpuMicrosPerMessage: number;
  /** The peak RSS of the nodes and of redis-server, added up. */
  peakRssMegabytes: number;
  errors: number;
}

interface ConnectionRun {
  subject: Candidate['name'];
  wire: Wire['name'];
  run: number;
  connections: number;
  sourceAddresses: number;
  handshakeSeconds: number;
  /** CPU time until every connection had its handshake, per connection. */
  serverCpuMicrosPerHandshake: number;
  loadTesterCpuMicrosPerHandshake: number;
  heldBytesPerConnection: number;
  peakBytesPerConnection: number;
  numUsersMillisIdle?: number;
  numUsersMillisLoaded?: number;
  errors: number;
}

/**
 * How processes are placed: the server on one core, the load tester on another; each with the
 * open-file limit the connections need, or as high as it goes.
 */
interface Placement {
  readonly pinned: boolean;
  readonly files: FileLimit;
}

function placement(): Placement {
  const files = fileLimitFor(CONNECTIONS + FILE_MARGIN);
  let pinned = false;
  if (cpus().length >= 2) {
    try {
      execFileSync('taskset', ['-c', '1', 'true']);
      pinned = true;
    } catch {
      pinned = false;
    }
  }
  return { pinned, files };
}

/** Starts `node script args`, on `cpu` when pinned, with the placement's open-file limit. */
function startNode(where: Placement, cpu: number, script: string, args: string[]): ChildProcess {
  const node = [process.execPath, join(ROOT, script), ...args];
  const command = where.pinned ? ['taskset', '-c', String(cpu), ...node] : node;
  return spawn('bash', withFileLimit(where.files, command), { stdio: ['pipe', 'pipe', 'pipe'] });
}

/**
 * The lines a child process prints, read as they come, always: a server whose log nobody reads
 * would block once the pipe is full.
 */
class Output {
  readonly lines: string[] = [];
  private waiters: (() => boolean)[] = [];
  private ended = false;

  constructor(
    stream: NodeJS.ReadableStream,
    private readonly onLine: (line: string) => void = () => undefined,
  ) {
    const reader = createInterface({ input: stream });
    reader.on('line', (line) => {
      this.lines.push(line);
      this.onLine(line);
      this.check();
    });
    reader.on('close', () => {
      this.ended = true;
      this.check();
    });
  }

  /** The first line that matches, or undefined if the output ends without one. */
  waitFor(pattern: RegExp): Promise<string | undefined> {
    return this.until(() => this.lines.find((line) => pattern.test(line)));
  }

  /** Resolves once `count` lines in all have been printed, or the output has ended. */
  async waitForLines(count: number): Promise<void> {
    await this.until(() => (this.lines.length >= count ? true : undefined));
  }

  private until<T>(find: () => T | undefined): Promise<T | undefined> {
    return new Promise((resolve) => {
      const settled = () => {
        const found = find();
        if (found === undefined && !this.ended) return false;
        resolve(found);
        return true;
      };
      if (!settled()) this.waiters.push(settled);
    });
  }

  private check(): void {
    this.waiters = this.waiters.filter((settled) => !settled());
  }
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

function memoryKilobytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
}

interface RunningServer {
  readonly process: ChildProcess;
  readonly pid: number;
  readonly port: number;
  readonly stdout: Output;
  readonly startSeconds: number;
  /** Where its database is, deleted when it stops. */
  readonly directory: string | undefined;
}

async function startServer(
  where: Placement,
  candidate: Candidate,
  extra: readonly string[] = [],
): Promise<RunningServer> {
  const directory = candidate.keepsDatabase
    ? mkdtempSync(join(tmpdir(), 'rx-chat-bench-'))
    : undefined;
  const database = directory === undefined ? [] : ['--db', join(directory, 'chat.db')];
  const started = performance.now();
  const child = startNode(where, 0, candidate.script, ['--port', '0', ...database, ...extra]);
  if (!child.stdout || !child.stderr || !child.pid)
    throw new Error(`cannot start ${candidate.script}`);
  const stdout = new Output(child.stdout);
  const stderr = new Output(child.stderr);
  const listening = await stderr.waitFor(/^listening on /);
  if (listening === undefined) {
    // Its output ended: it has exited, and its database can go.
    if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
    throw new Error(`${candidate.script} did not start: ${stderr.lines.join(' / ')}`);
  }
  return {
    process: child,
    pid: child.pid,
    port: Number(/:(\d+)$/.exec(listening)?.[1]),
    stdout,
    startSeconds: (performance.now() - started) / 1000,
    directory,
  };
}

async function stopServer(server: RunningServer): Promise<void> {
  const { process: child } = server;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }
  if (server.directory !== undefined) rmSync(server.directory, { recursive: true, force: true });
}

interface LoadTestRun {
  readonly summary: Summary;
  readonly stderr: string[];
}

/** The load tester's flags for `ports`: `--port P` for one server, `--ports A,B,…` for a cluster. */
const targetArgs = (ports: readonly number[]) =>
  ports.length === 1 ? ['--port', String(ports[0])] : ['--ports', ports.join(',')];

/** The load tester's progress on stderr, line by line, with its process id. */
type LoadTestListener = (line: string, pid: number) => void;

async function loadTest(
  where: Placement,
  ports: readonly number[],
  args: string[],
  onStderr: LoadTestListener = () => undefined,
): Promise<LoadTestRun> {
  const child = startNode(where, 1, 'dist/cli/loadtest.js', [
    ...targetArgs(ports),
    '--size',
    String(MESSAGE_BYTES),
    '--duration',
    '300',
    '--json',
    ...args,
  ]);
  const { pid } = child;
  if (!child.stdout || !child.stderr || pid === undefined) {
    throw new Error('cannot start the load tester');
  }
  const stdout = new Output(child.stdout);
  const stderr = new Output(child.stderr, (line) => onStderr(line, pid));
  const [code] = (await once(child, 'close')) as [number];
  const json = stdout.lines.at(-1);
  if (json === undefined) {
    throw new Error(`the load tester exited ${code}: ${stderr.lines.join(' / ')}`);
  }
  return { summary: JSON.parse(json) as Summary, stderr: stderr.lines };
}

/** What a cell measures: one server, or the nodes of a cluster and its redis-server. */
interface Deployment {
  /** The ports the load tester connects to. */
  readonly ports: readonly number[];
  /** The processes whose CPU and memory are measured. */
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

async function startSingle(
  where: Placement,
  candidate: Candidate,
  wire: Wire = PLAIN,
): Promise<Deployment> {
  const server = await startServer(where, candidate, wire.serverArgs);
  return { ports: [server.port], pids: [server.pid], stop: () => stopServer(server) };
}

/** Whether there is a redis-server to run a cluster with (`redis-server --version`). */
function hasRedis(): boolean {
  const probe = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  return probe.error === undefined && probe.status === 0;
}

/**
 * A redis-server (spec/support/redis-server.ts: a free port, its data in a temporary directory,
 * AOF on, no RDB snapshots) told to fsync its AOF once a second, as a deployment would, and
 * `nodes` chat servers sharing it, each with a fresh database of its own. When pinned, all of
 * them share CPU 0, the single server's CPU, so that the cell compares what the same CPU does.
 * The pids are the nodes', then redis-server's.
 */
async function startCluster(where: Placement, nodes: number): Promise<Deployment> {
  const redis = await RedisProcess.start();
  const servers: RunningServer[] = [];
  const stop = async () => {
    for (const server of servers) await stopServer(server);
    await redis.remove();
  };
  try {
    const pid = redis.pid;
    if (pid === undefined) throw new Error('redis-server has no pid');
    const config = ['CONFIG', 'SET', 'appendfsync', 'everysec'];
    const answer = execFileSync('redis-cli', ['-p', String(redis.port), ...config]).toString();
    if (answer.trim() !== 'OK') {
      throw new Error(`redis-server refused appendfsync everysec: ${answer.trim()}`);
    }
    if (where.pinned) execFileSync('taskset', ['-a', '-p', '-c', '0', String(pid)]);
    for (let node = 1; node <= nodes; node++) {
      const args = ['--redis', redis.url, '--node', `node-${node}`];
      servers.push(await startServer(where, SERVER, args));
    }
    return {
      ports: servers.map((server) => server.port),
      pids: [...servers.map((server) => server.pid), pid],
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

interface Measured {
  readonly summary: Summary;
  /** The CPU time of each of the deployment's processes during the measured load test. */
  readonly cpuSeconds: readonly number[];
  /** The peak RSS of each of them (VmHWM). */
  readonly peakRssMegabytes: readonly number[];
}

const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);

const loadArgs = (clients: number, window: number, messages: number) => [
  '--clients',
  String(clients),
  '--window',
  String(window),
  '--messages',
  String(messages),
];

/**
 * A fresh deployment (a server process, or a cluster), warmed up with the load `warmUp` (in
 * `mode`), then the load `args` measured: what the load tester says, and each process's CPU and
 * peak memory. It is stopped in any case.
 */
async function measure(
  where: Placement,
  start: () => Promise<Deployment>,
  warmUp: string[],
  args: string[],
  mode: string[] = [],
): Promise<Measured> {
  const deployment = await start();
  try {
    const { ports, pids } = deployment;
    await loadTest(where, ports, [...warmUp, ...mode]);
    const cpuBefore = pids.map(cpuSeconds);
    const { summary } = await loadTest(where, ports, [...args, ...mode]);
    const cpu = pids.map((pid, at) => cpuSeconds(pid) - (cpuBefore[at] ?? NaN));
    const peaks = pids.map((pid) => memoryKilobytes(pid, 'VmHWM') / 1024);
    return { summary, cpuSeconds: cpu, peakRssMegabytes: peaks };
  } finally {
    await deployment.stop();
  }
}

async function runCell(
  where: Placement,
  subject: Candidate,
  cell: Cell,
  run: number,
  wire: Wire = PLAIN,
): Promise<LoadRun> {
  const {
    summary,
    cpuSeconds: cpu,
    peakRssMegabytes,
  } = await measure(
    where,
    () => startSingle(where, subject, wire),
    loadArgs(10, 32, 2000),
    loadArgs(cell.clients, cell.window, cell.messages),
    [...wire.clientArgs],
  );
  return {
    subject: subject.name,
    wire: wire.name,
    cell: cellName(cell),
    run,
    messagesPerSecond: summary.messagesPerSecond,
    p50Micros: summary.latencyMicros.p50,
    p99Micros: summary.latencyMicros.p99,
    cpuSecondsPerMillion: (sum(cpu) / Math.max(1, summary.echoedMessages)) * 1e6,
    peakRssMegabytes: sum(peakRssMegabytes),
    errors: summary.errors,
  };
}

/**
 * A direct-message cell: the server (or the floor, online only), warmed up with one unmeasured
 * run of the cell's own load. After a short warm-up (5,000 direct messages) the optimizing
 * compiler still spent about a second of the server's CPU compiling the direct path during the
 * measured run: a third of what the cell then measured, and nothing a server that has run for a
 * minute pays.
 */
async function runDirectCell(
  where: Placement,
  cell: DirectCell,
  run: number,
  wire: Wire = PLAIN,
  subject: Candidate = SERVER,
): Promise<DirectRun> {
  const load = loadArgs(cell.pairs * 2, cell.window, cell.messages);
  const {
    summary,
    cpuSeconds: cpu,
    peakRssMegabytes,
  } = await measure(where, () => startSingle(where, subject, wire), load, load, [
    ...(cell.offline ? ['--direct', '--offline'] : ['--direct']),
    ...wire.clientArgs,
  ]);
  // Online, every echo's receipt says its message is stored; offline, the burst's rate is apart.
  const storedPerSecond =
    summary.stored?.messagesPerSecond ?? summary.echoedMessages / summary.seconds;
  return {
    wire: wire.name,
    cell: cell.name,
    run,
    deliveredPerSecond: summary.resumed?.messagesPerSecond ?? summary.messagesPerSecond,
    storedPerSecond,
    p50Micros: summary.latencyMicros.p50,
    p99Micros: summary.latencyMicros.p99,
    cpuMicrosPerMessage: (sum(cpu) / Math.max(1, summary.deliveredMessages)) * 1e6,
    peakRssMegabytes: sum(peakRssMegabytes),
    errors: summary.errors,
  };
}

/**
 * The cluster cell: a fresh cluster, warmed up as the direct cells are, with its own load, then
 * the online direct load over its nodes (`--ports`), every pair spanning two nodes. Its CPU is
 * the nodes' and redis-server's.
 */
async function runClusterCell(
  where: Placement,
  cell: ClusterCell,
  run: number,
): Promise<ClusterRun> {
  const load = loadArgs(cell.pairs * 2, cell.window, cell.messages);
  const {
    summary,
    cpuSeconds: cpu,
    peakRssMegabytes,
  } = await measure(where, () => startCluster(where, cell.nodes), load, load, ['--direct']);
  const perMessage = (seconds: number) => (seconds / Math.max(1, summary.deliveredMessages)) * 1e6;
  return {
    cell: cell.name,
    run,
    deliveredPerSecond: summary.messagesPerSecond,
    p50Micros: summary.latencyMicros.p50,
    p99Micros: summary.latencyMicros.p99,
    cpuMicrosPerMessage: perMessage(sum(cpu)),
    nodesCpuMicrosPerMessage: perMessage(sum(cpu.slice(0, cell.nodes))),
    redisCpuMicrosPerMessage: perMessage(sum(cpu.slice(cell.nodes))),
    peakRssMegabytes: sum(peakRssMegabytes),
    errors: summary.errors,
  };
}

/** How long the server takes to answer `asks` times `num_users` at its console, in ms. */
async function askNumUsers(server: RunningServer, asks: number): Promise<number> {
  const answered = server.stdout.lines.length + asks;
  const started = performance.now();
  server.process.stdin?.write('num_users\n'.repeat(asks));
  await server.stdout.waitForLines(answered);
  return performance.now() - started;
}

/**
 * How long the server's console takes to answer `num_users`, a hundred times over, per answer,
 * once it has answered a hundred unmeasured: a console's first answers run code not yet compiled.
 */
async function timeNumUsers(server: RunningServer): Promise<number> {
  await askNumUsers(server, 100);
  return (await askNumUsers(server, 100)) / 100;
}

async function runConnections(
  where: Placement,
  subject: Candidate,
  run: number,
  connections: number,
  wire: Wire = PLAIN,
): Promise<ConnectionRun> {
  const server = await startServer(where, subject, [
    ...subject.holding(connections),
    ...wire.serverArgs,
  ]);
  const hasConsole = subject.name === 'server';
  const numUsersMillisIdle = hasConsole ? await timeNumUsers(server) : undefined;
  const before = memoryKilobytes(server.pid, 'VmRSS');
  const serverCpuBefore = cpuSeconds(server.pid);
  let [serverCpu, loadTesterCpu] = [NaN, NaN];
  let held = NaN;
  let numUsersMillisLoaded: number | undefined;
  let measured: Promise<void> = Promise.resolve();
  const { summary } = await loadTest(
    where,
    [server.port],
    [
      ...['--clients', String(connections), '--messages', '0', '--hold', String(HOLD_SECONDS)],
      ...wire.clientArgs,
    ],
    (line, loadTester) => {
      if (!line.startsWith('holding')) return;
      serverCpu = cpuSeconds(server.pid) - serverCpuBefore;
      loadTesterCpu = cpuSeconds(loadTester);
      measured = (async () => {
        // A moment for the last handshakes' garbage to be collected, then the connections' cost.
        await new Promise((resolve) => setTimeout(resolve, 500));
        held = memoryKilobytes(server.pid, 'VmRSS');
        if (hasConsole) numUsersMillisLoaded = await timeNumUsers(server);
      })();
    },
  );
  await measured;
  const peak = memoryKilobytes(server.pid, 'VmHWM');
  await stopServer(server);
  return {
    subject: subject.name,
    wire: wire.name,
    run,
    connections: summary.connections,
    sourceAddresses: summary.sourceAddresses,
    handshakeSeconds: summary.handshakeSeconds,
    serverCpuMicrosPerHandshake: (serverCpu / connections) * 1e6,
    loadTesterCpuMicrosPerHandshake: (loadTesterCpu / connections) * 1e6,
    heldBytesPerConnection: ((held - before) * 1024) / connections,
    peakBytesPerConnection: ((peak - before) * 1024) / connections,
    ...(numUsersMillisIdle === undefined ? {} : { numUsersMillisIdle }),
    ...(numUsersMillisLoaded === undefined ? {} : { numUsersMillisLoaded }),
    errors: summary.errors,
  };
}

interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

function spread(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1
      ? (sorted[middle] ?? NaN)
      : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
  return { median, min: sorted[0] ?? NaN, max: sorted.at(-1) ?? NaN };
}

const figure = (value: number, digits = 0) =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', {
        minimumFractionDigits: digits,
        maximumFractionDigits: digits,
      })
    : 'n/a';
const ranged = ({ median, min, max }: Spread, digits = 0) =>
  `${figure(median, digits)} (${figure(min, digits)}-${figure(max, digits)})`;

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join(
    '\n',
  );
}

function runsOf<T extends { subject: Candidate['name'] }>(
  runs: T[],
  subject: Candidate['name'],
): T[] {
  return runs.filter((run) => run.subject === subject);
}

function loadTables(runs: LoadRun[]): {
  text: string;
  medians: Map<string, Record<string, Spread>>;
} {
  const medians = new Map<string, Record<string, Spread>>();
  const throughput: string[][] = [];
  const resources: string[][] = [];
  for (const cell of CELLS.map(cellName)) {
    const stats = (subject: Candidate['name']) => {
      const cellRuns = runsOf(runs, subject).filter((run) => run.cell === cell);
      return {
        rate: spread(cellRuns.map((run) => run.messagesPerSecond)),
        p50: spread(cellRuns.map((run) => run.p50Micros)),
        p99: spread(cellRuns.map((run) => run.p99Micros)),
        cpu: spread(cellRuns.map((run) => run.cpuSecondsPerMillion)),
        rss: spread(cellRuns.map((run) => run.peakRssMegabytes)),
      };
    };
    const server = stats('server');
    const baseline = stats('baseline');
    medians.set(`server ${cell}`, server);
    medians.set(`baseline ${cell}`, baseline);
    throughput.push([
      cell,
      ranged(server.rate),
      ranged(baseline.rate),
      figure(server.rate.median / baseline.rate.median, 2),
      `${figure(server.p50.median)} / ${figure(server.p99.median)}`,
      `${figure(baseline.p50.median)} / ${figure(baseline.p99.median)}`,
      figure(server.p99.median / baseline.p99.median, 2),
    ]);
    resources.push([
      cell,
      ranged(server.cpu, 2),
      ranged(baseline.cpu, 2),
      figure(baseline.cpu.median / server.cpu.median, 2),
      figure(server.rss.median, 1),
      figure(baseline.rss.median, 1),
      figure(server.rss.median / baseline.rss.median, 2),
    ]);
  }
  const text = [
    'Throughput and latency (median of the runs, range in brackets; latency in microseconds)',
    '',
    table(
      [
        'cell',
        'server msg/s',
        'baseline msg/s',
        'server/baseline',
        'server p50 / p99',
        'baseline p50 / p99',
        'p99 server/baseline',
      ],
      throughput,
    ),
    '',
    'Server CPU per million messages (seconds) and peak RSS (MB)',
    '',
    table(
      [
        'cell',
        'server CPU s/M',
        'baseline CPU s/M',
        'baseline/server',
        'server RSS',
        'baseline RSS',
        'server/baseline',
      ],
      resources,
    ),
  ].join('\n');
  return { text, medians };
}

/** The medians of held connections: each figure's median over the runs. */
function connectionMedians(runs: readonly ConnectionRun[]) {
  const median = (pick: (run: ConnectionRun) => number | undefined) =>
    spread(runs.map(pick).filter((value): value is number => value !== undefined)).median;
  return {
    connections: median((run) => run.connections),
    handshakeSeconds: median((run) => run.handshakeSeconds),
    serverCpuMicros: median((run) => run.serverCpuMicrosPerHandshake),
    loadTesterCpuMicros: median((run) => run.loadTesterCpuMicrosPerHandshake),
    heldKilobytes: median((run) => run.heldBytesPerConnection / 1024),
    peakKilobytes: median((run) => run.peakBytesPerConnection / 1024),
    numUsersIdle: median((run) => run.numUsersMillisIdle),
    numUsersLoaded: median((run) => run.numUsersMillisLoaded),
  };
}

/** Held connections, a row for each of `rows` (a label and its runs), then what `extra` adds. */
function connectionTable(
  rows: readonly (readonly [string, readonly ConnectionRun[]])[],
  extra: string[][] = [],
): string {
  const row = ([label, runs]: readonly [string, readonly ConnectionRun[]]) => {
    const { numUsersIdle, numUsersLoaded } = connectionMedians(runs);
    return [
      label,
      figure(spread(runs.map((run) => run.connections)).median),
      figure(spread(runs.map((run) => run.sourceAddresses)).median),
      ranged(spread(runs.map((run) => run.handshakeSeconds)), 3),
      ranged(spread(runs.map((run) => run.serverCpuMicrosPerHandshake)), 0),
      ranged(spread(runs.map((run) => run.loadTesterCpuMicrosPerHandshake)), 0),
      ranged(spread(runs.map((run) => run.heldBytesPerConnection / 1024)), 2),
      ranged(spread(runs.map((run) => run.peakBytesPerConnection / 1024)), 2),
      `${figure(numUsersIdle, 3)} / ${figure(numUsersLoaded, 3)}`,
    ];
  };
  return table(
    [
      'subject',
      'connections',
      'source addresses',
      'handshake all (s)',
      'server CPU µs/handshake',
      'load tester CPU µs/handshake',
      'held RSS KB/conn',
      'peak RSS KB/conn',
      'num_users ms: 0 / all held',
    ],
    [...rows.map(row), ...extra],
  );
}

function directTable(runs: DirectRun[]): string {
  const rows = DIRECT_CELLS.map(({ name }) => {
    const mine = runs.filter((run) => run.cell === name);
    const median = (pick: (run: DirectRun) => number) => spread(mine.map(pick)).median;
    return [
      name,
      ranged(spread(mine.map((run) => run.deliveredPerSecond))),
      ranged(spread(mine.map((run) => run.storedPerSecond))),
      ranged(spread(mine.map((run) => run.cpuMicrosPerMessage)), 2),
      `${figure(median((run) => run.p50Micros))} / ${figure(median((run) => run.p99Micros))}`,
      figure(
        median((run) => run.peakRssMegabytes),
        1,
      ),
    ];
  });
  return table(
    [
      'cell',
      'delivered msg/s',
      'stored msg/s',
      'server CPU µs/msg',
      'p50 / p99 to receipt',
      'server RSS',
    ],
    rows,
  );
}

/** The runs of the online direct cell. */
const onlineDirects = (runs: readonly DirectRun[]) =>
  runs.filter((run) => run.cell === DIRECT_ONLINE.name);

/** What a single server's online direct cell and the cluster cell both measure. */
type OnlineFigures = Pick<
  ClusterRun,
  'deliveredPerSecond' | 'cpuMicrosPerMessage' | 'p50Micros' | 'p99Micros' | 'peakRssMegabytes'
>;

/** The cluster cell beside the single server's online direct cell, of the same runs. */
function clusterTable(directs: DirectRun[], clusters: ClusterRun[]): string {
  const single = onlineDirects(directs);
  const singleRate = spread(single.map((run) => run.deliveredPerSecond));
  const singleCpu = spread(single.map((run) => run.cpuMicrosPerMessage));
  const row = (name: string, runs: readonly OnlineFigures[], split: string) => {
    const rate = spread(runs.map((run) => run.deliveredPerSecond));
    const cpu = spread(runs.map((run) => run.cpuMicrosPerMessage));
    const median = (pick: (run: OnlineFigures) => number) => spread(runs.map(pick)).median;
    return [
      name,
      ranged(rate),
      figure(rate.median / singleRate.median, 2),
      ranged(cpu, 2),
      split,
      figure(cpu.median / singleCpu.median, 2),
      `${figure(median((run) => run.p50Micros))} / ${figure(median((run) => run.p99Micros))}`,
      figure(
        median((run) => run.peakRssMegabytes),
        1,
      ),
    ];
  };
  const nodes = spread(clusters.map((run) => run.nodesCpuMicrosPerMessage)).median;
  const redis = spread(clusters.map((run) => run.redisCpuMicrosPerMessage)).median;
  return table(
    [
      'cell',
      'delivered msg/s',
      'msg/s x one server',
      'server CPU µs/msg',
      'of it nodes + redis',
      'CPU x one server',
      'p50 / p99 to receipt',
      'RSS (all)',
    ],
    [
      row(`${DIRECT_ONLINE.name} (one server)`, single, `${figure(singleCpu.median, 2)} + 0`),
      row(CLUSTER_CELL.name, clusters, `${figure(nodes, 2)} + ${figure(redis, 2)}`),
    ],
  );
}

/** What an echo or a direct-message cell measured, in the same units, for the TLS table. */
interface CellFigures {
  readonly rate: number;
  readonly cpuMicros: number;
  readonly p50: number;
  readonly p99: number;
  readonly rss: number;
}

const echoFigures = (run: LoadRun): CellFigures => ({
  rate: run.messagesPerSecond,
  cpuMicros: run.cpuSecondsPerMillion,
  p50: run.p50Micros,
  p99: run.p99Micros,
  rss: run.peakRssMegabytes,
});

/** The figures of `subject`'s echo runs of `cell`. */
const echoesOf = (runs: readonly LoadRun[], subject: Candidate['name'], cell: string) =>
  runs.filter((run) => run.subject === subject && run.cell === cell).map(echoFigures);

const directFigures = (run: DirectRun): CellFigures => ({
  rate: run.deliveredPerSecond,
  cpuMicros: run.cpuMicrosPerMessage,
  p50: run.p50Micros,
  p99: run.p99Micros,
  rss: run.peakRssMegabytes,
});

/** A cell's runs of one kind (`other`) beside the same cell's runs of another (`base`). */
interface BesideRow {
  readonly name: string;
  readonly base: readonly CellFigures[];
  readonly other: readonly CellFigures[];
}

/** `other` runs' figures, each with its median over `base`'s: `x base` columns. */
function besideTable(other: string, base: string, rows: readonly BesideRow[]): string {
  const line = ({ name, base: baseRuns, other: otherRuns }: BesideRow) => {
    const median = (runs: readonly CellFigures[], pick: (run: CellFigures) => number) =>
      spread(runs.map(pick)).median;
    const times = (pick: (run: CellFigures) => number) =>
      figure(median(otherRuns, pick) / median(baseRuns, pick), 2);
    return [
      name,
      ranged(spread(otherRuns.map((run) => run.rate))),
      times((run) => run.rate),
      ranged(spread(otherRuns.map((run) => run.cpuMicros)), 2),
      times((run) => run.cpuMicros),
      `${figure(median(otherRuns, (run) => run.p50))} / ${figure(median(otherRuns, (run) => run.p99))}`,
      times((run) => run.p99),
      figure(
        median(otherRuns, (run) => run.rss),
        1,
      ),
      times((run) => run.rss),
    ];
  };
  return table(
    [
      'cell',
      `${other} msg/s`,
      `x ${base}`,
      `${other} CPU µs/msg`,
      `x ${base}`,
      `${other} p50 / p99`,
      `p99 x ${base}`,
      `${other} RSS`,
      `x ${base}`,
    ],
    rows.map(line),
  );
}

/** The server's held connections in plain TCP and over TLS, and the second over the first. */
function tlsConnectionTable(runs: readonly ConnectionRun[]): string {
  const plain = runs.filter((run) => run.subject === 'server' && run.wire === 'plain');
  const tls = runs.filter((run) => run.subject === 'server' && run.wire === 'TLS');
  const [before, after] = [connectionMedians(plain), connectionMedians(tls)];
  const times = (pick: (medians: typeof before) => number, digits = 2) =>
    figure(pick(after) / pick(before), digits);
  return connectionTable(
    [
      ['server, plain', plain],
      ['server, TLS', tls],
    ],
    [
      [
        'TLS x plain',
        '',
        '',
        times((medians) => medians.handshakeSeconds),
        times((medians) => medians.serverCpuMicros),
        times((medians) => medians.loadTesterCpuMicros),
        times((medians) => medians.heldKilobytes),
        times((medians) => medians.peakKilobytes),
        `${times((medians) => medians.numUsersIdle)} / ${times((medians) => medians.numUsersLoaded)}`,
      ],
    ],
  );
}

function verdict(met: boolean): string {
  return met ? 'met' : 'NOT met';
}

/** What the targets are measured on. */
interface Measurements {
  readonly medians: Map<string, Record<string, Spread>>;
  /** The echo runs of the floor server. */
  readonly floor: readonly LoadRun[];
  /** Its runs of the online direct cell. */
  readonly floorDirects: readonly DirectRun[];
  readonly connections: readonly ConnectionRun[];
  /** The server's runs holding half as many. */
  readonly halves: readonly ConnectionRun[];
  /** How many connections the connection cells were to hold. */
  readonly held: number;
  readonly directs: readonly DirectRun[];
  readonly clusters: readonly ClusterRun[];
  readonly clusterSkipped: string | undefined;
}

/** Issue 10's targets, and the cluster's, each with what was measured and whether it was met. */
function targets({
  medians,
  floor,
  floorDirects,
  connections,
  halves,
  held,
  directs,
  clusters,
  clusterSkipped,
}: Measurements): string {
  const median = (key: string, stat: string) => medians.get(key)?.[stat]?.median ?? NaN;
  const rows: string[][] = [];
  for (const cell of TARGET_CELLS) {
    const cpu = median(`server ${cell}`, 'cpu');
    const floorCpu = spread(echoesOf(floor, 'floor', cell).map((run) => run.cpuMicros)).median;
    const [server, baseline] = [
      median(`server ${cell}`, 'rate'),
      median(`baseline ${cell}`, 'rate'),
    ];
    rows.push(
      [
        `echo ${cell}: at most 0.5 µs of server CPU a message`,
        `${figure(cpu, 2)} µs (the floor: ${figure(floorCpu, 2)} µs)`,
        verdict(cpu <= 0.5),
      ],
      [
        `echo ${cell}: at least 1.5x the baseline's msg/s`,
        `${figure(server / baseline, 2)}x (${figure(server)} against ${figure(baseline)} msg/s)`,
        verdict(server / baseline >= 1.5),
      ],
    );
  }
  const single = onlineDirects(directs);
  const direct = spread(single.map((run) => run.cpuMicrosPerMessage)).median;
  const floorDirect = spread(floorDirects.map((run) => run.cpuMicrosPerMessage)).median;
  rows.push([
    `${DIRECT_ONLINE.name}: at most 2 µs of server CPU a delivered message, store included`,
    `${figure(direct, 2)} µs (the floor, nothing stored: ${figure(floorDirect, 2)} µs)`,
    verdict(direct <= 2),
  ]);
  const server = connectionMedians(connections.filter((run) => run.subject === 'server'));
  const all = server.connections >= held;
  const atFullCount = (server.handshakeSeconds * CONNECTIONS) / server.connections;
  const short =
    held < CONNECTIONS ? ` (at ${figure(held)}: the open-file limit allows no more)` : '';
  // Who set the pace: each process's CPU a handshake, against the time a handshake took.
  const cpus = `CPU a handshake: the server's ${figure(server.serverCpuMicros)} µs, the load tester's ${figure(server.loadTesterCpuMicros)} µs`;
  rows.push(
    [
      `${figure(CONNECTIONS)} idle connections handshaken within 5 s`,
      held < CONNECTIONS
        ? `${figure(server.handshakeSeconds, 3)} s for ${figure(server.connections)}: ${figure(atFullCount, 1)} s for ${figure(CONNECTIONS)} at that rate (${cpus})`
        : `${figure(server.handshakeSeconds, 3)} s for ${figure(server.connections)} (${cpus})`,
      // Fewer held, the time is taken at the rate measured: a cell of fewer says nothing faster.
      verdict(all && atFullCount <= 5) + short,
    ],
    rssTarget(server, connectionMedians(halves)),
  );
  const p99 = median('server 100x1', 'p99') / median('baseline 100x1', 'p99');
  rows.push([
    `100x1: p99 at most the baseline's`,
    `${figure(p99, 2)}x (${figure(median('server 100x1', 'p99'))} against ${figure(median('baseline 100x1', 'p99'))} µs)`,
    verdict(p99 <= 1),
  ]);
  // O(1): the answer with every connection held takes no more than twice the answer with none.
  rows.push([
    `num_users O(1) at ${figure(CONNECTIONS)} connections`,
    `${figure(server.numUsersLoaded, 3)} ms with ${figure(server.connections)} held, ${figure(server.numUsersIdle, 3)} ms with none`,
    verdict(server.numUsersLoaded <= 2 * server.numUsersIdle) + short,
  ]);
  if (clusterSkipped === undefined) {
    const cluster = spread(clusters.map((run) => run.deliveredPerSecond)).median;
    const rate = spread(single.map((run) => run.deliveredPerSecond)).median;
    rows.push([
      `${CLUSTER_CELL.name}: at least 0.5x the single server's ${DIRECT_ONLINE.name} msg/s`,
      `${figure(cluster / rate, 2)}x (${figure(cluster)} against ${figure(rate)} msg/s)`,
      verdict(cluster / rate >= 0.5),
    ]);
  } else {
    rows.push([
      `${CLUSTER_CELL.name}: at least 0.5x the single server's`,
      `not run: ${clusterSkipped}`,
      '',
    ]);
  }
  return table(['target', 'measured', ''], rows);
}

type ConnectionMedians = ReturnType<typeof connectionMedians>;

/**
 * The server's RSS a connection with `CONNECTIONS` held, from fewer: what `all` added, plus, for
 * each connection it could not hold, what each one past `half`'s count added (the slope), over
 * `CONNECTIONS`. Fewer held, a fixed cost weighs more on each: the young generation grows by
 * 16 MB in a burst of connects, whatever their number.
 */
function rssAtFullCount(all: ConnectionMedians, half: ConnectionMedians) {
  const added = (medians: ConnectionMedians) => medians.heldKilobytes * medians.connections;
  const slope = (added(all) - added(half)) / (all.connections - half.connections);
  const projected = (added(all) + (CONNECTIONS - all.connections) * slope) / CONNECTIONS;
  return { slope, projected };
}

function rssTarget(all: ConnectionMedians, half: ConnectionMedians): string[] {
  const measured = `${figure(all.heldKilobytes, 2)} KB held at ${figure(all.connections)} (${figure(all.peakKilobytes, 2)} at the peak)`;
  if (all.connections >= CONNECTIONS) {
    return ['at most 5 KB of RSS per connection', measured, verdict(all.heldKilobytes <= 5)];
  }
  const { slope, projected } = rssAtFullCount(all, half);
  return [
    `at most 5 KB of RSS per connection`,
    `${figure(projected, 2)} KB each at ${figure(CONNECTIONS)}, from ${measured} and ${figure(slope, 2)} KB more for each past ${figure(half.connections)}`,
    `${verdict(projected <= 5)} (projected: the open-file limit allows ${figure(all.connections)})`,
  ];
}

/** What the open-file limit allows, and why, for the report. */
function fileLimitNote(files: FileLimit, connections: number): string {
  const limit = `Open files: each process runs with a limit of ${figure(files.limit)}`;
  const refused =
    files.refused === undefined
      ? ''
      : ` (raising it to ${figure(CONNECTIONS + FILE_MARGIN)} was refused: ${files.refused})`;
  const held =
    connections < CONNECTIONS
      ? `; the connection cells hold ${figure(connections)}, not ${figure(CONNECTIONS)}, ${FILE_MARGIN} kept for the server's own files`
      : '';
  return `${limit}${refused}${held}. One load tester holds all of them: it needs fewer files than the server, which holds them in one process too.`;
}

async function main(): Promise<void> {
  const where = placement();
  const connections = Math.min(CONNECTIONS, where.files.limit - FILE_MARGIN);
  const started = performance.now();
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`;
  process.stderr.write(`bench on ${machine}\n`);
  process.stderr.write(
    where.pinned
      ? 'the server runs pinned to CPU 0 and the load tester to CPU 1 (taskset)\n'
      : 'not pinned: taskset or a second CPU is missing, so the processes share the CPUs\n',
  );
  const files = fileLimitNote(where.files, connections);
  process.stderr.write(`${files}\n`);

  const clusterSkipped = hasRedis() ? undefined : 'redis-server is not installed';
  if (clusterSkipped !== undefined) {
    process.stderr.write(`${clusterSkipped}: the cluster cell is skipped\n`);
  }
  const certificates = mkdtempSync(join(tmpdir(), 'rx-chat-bench-tls-'));
  try {
    const tls = tlsWire(certificates);
    if (typeof tls === 'string') process.stderr.write(`${tls}: the TLS cells are skipped\n`);
    await bench({ where, connections, clusterSkipped, tls, machine, files, started });
  } finally {
    rmSync(certificates, { recursive: true, force: true });
  }
}

/** What the bench runs with, decided before its first cell. */
interface Setup {
  readonly where: Placement;
  /** How many connections the connection cells hold. */
  readonly connections: number;
  readonly clusterSkipped: string | undefined;
  /** TLS, or why its cells are skipped. */
  readonly tls: Wire | string;
  readonly machine: string;
  /** What the open-file limit allows, for the report. */
  readonly files: string;
  readonly started: number;
}

/** Every cell, run after run, then the report on stdout and the raw results in bench/results/. */
async function bench(setup: Setup): Promise<void> {
  const { where, connections, clusterSkipped, tls, machine, files, started } = setup;
  const loadRuns: LoadRun[] = [];
  const directRuns: DirectRun[] = [];
  const floorDirectRuns: DirectRun[] = [];
  const clusterRuns: ClusterRun[] = [];
  const connectionRuns: ConnectionRun[] = [];
  const halfConnectionRuns: ConnectionRun[] = [];
  const startSeconds: number[] = [];
  const say = (run: number, what: string) => process.stderr.write(`run ${run}/${RUNS}: ${what}\n`);
  for (let run = 1; run <= RUNS; run++) {
    const order = run % 2 === 1 ? CANDIDATES : [...CANDIDATES].reverse();
    // The server's cells over TLS, in the first TLS_RUNS runs, each after its plain cells.
    const overTls = typeof tls === 'string' || run > TLS_RUNS ? undefined : tls;
    for (const cell of CELLS) {
      const floor = TARGET_CELLS.includes(cellName(cell)) ? [FLOOR] : [];
      for (const subject of [...order, ...floor]) {
        say(run, `${subject.name} ${cellName(cell)}`);
        loadRuns.push(await runCell(where, subject, cell, run));
      }
      if (overTls !== undefined && TARGET_CELLS.includes(cellName(cell))) {
        say(run, `server ${cellName(cell)} over TLS`);
        const shorter = { ...cell, messages: Math.ceil(cell.messages * TLS_MESSAGE_SHARE) };
        loadRuns.push(await runCell(where, SERVER, shorter, run, overTls));
      }
    }
    // The single server's online direct cell and the cluster's alternate, as the subjects do.
    const single = async () => {
      say(run, `server ${DIRECT_ONLINE.name}`);
      directRuns.push(await runDirectCell(where, DIRECT_ONLINE, run));
      say(run, `floor ${DIRECT_ONLINE.name}`);
      floorDirectRuns.push(await runDirectCell(where, DIRECT_ONLINE, run, PLAIN, FLOOR));
    };
    const cluster = async () => {
      say(run, CLUSTER_CELL.name);
      clusterRuns.push(await runClusterCell(where, CLUSTER_CELL, run));
    };
    const online = clusterSkipped === undefined ? [single, cluster] : [single];
    for (const cell of run % 2 === 1 ? online : [...online].reverse()) await cell();
    if (overTls !== undefined) {
      say(run, `server ${DIRECT_ONLINE.name} over TLS`);
      directRuns.push(await runDirectCell(where, DIRECT_ONLINE, run, overTls));
    }
    say(run, `server ${DIRECT_OFFLINE.name}`);
    directRuns.push(await runDirectCell(where, DIRECT_OFFLINE, run));
    for (const subject of order) {
      say(run, `${subject.name} ${connections} connections`);
      connectionRuns.push(await runConnections(where, subject, run, connections));
    }
    if (connections < CONNECTIONS) {
      const half = Math.floor(connections / 2);
      say(run, `server ${half} connections, for the RSS each one adds`);
      halfConnectionRuns.push(await runConnections(where, SERVER, run, half));
    }
    if (overTls !== undefined && run <= TLS_CONNECTION_RUNS) {
      say(run, `server ${connections} connections over TLS`);
      connectionRuns.push(await runConnections(where, SERVER, run, connections, overTls));
    }
  }
  for (let run = 0; run < 5; run++) {
    const server = await startServer(where, SERVER);
    startSeconds.push(server.startSeconds);
    await stopServer(server);
  }

  const plain = <T extends { wire: Wire['name'] }>(runs: T[]) =>
    runs.filter((run) => run.wire === 'plain');
  const overTls = <T extends { wire: Wire['name'] }>(runs: T[]) =>
    runs.filter((run) => run.wire === 'TLS');
  const { text, medians } = loadTables(plain(loadRuns));
  const errors = [
    ...loadRuns,
    ...directRuns,
    ...floorDirectRuns,
    ...clusterRuns,
    ...connectionRuns,
    ...halfConnectionRuns,
  ].reduce((total, run) => total + run.errors, 0);
  const plainConnections = plain(connectionRuns);
  // The server's plain runs of the target cells (echo and direct) beside other runs of them.
  const besideServer = (
    echoes: (cell: string) => CellFigures[],
    directs: readonly DirectRun[],
  ): BesideRow[] => [
    ...TARGET_CELLS.map((cell) => ({
      name: cell,
      base: echoesOf(plain(loadRuns), 'server', cell),
      other: echoes(cell),
    })),
    {
      name: DIRECT_ONLINE.name,
      base: onlineDirects(plain(directRuns)).map(directFigures),
      other: directs.map(directFigures),
    },
  ];
  const tlsText =
    typeof tls === 'string'
      ? `No TLS cells: ${tls}.`
      : [
          `The server over TLS (a self-signed EC P-256 certificate, the load tester not verifying it; no baseline), echo and direct cells in the first ${TLS_RUNS} runs (echo cells with ${TLS_MESSAGE_SHARE * 100}% of the plain cells' messages), connections in the first ${TLS_CONNECTION_RUNS}, beside the plain cells of all ${RUNS} runs: x plain is the TLS median over the plain one`,
          '',
          besideTable(
            'TLS',
            'plain',
            besideServer(
              (cell) => echoesOf(overTls(loadRuns), 'server', cell),
              overTls(directRuns),
            ),
          ),
          '',
          tlsConnectionTable(connectionRuns),
        ].join('\n');
  const floorText = [
    `The floor (bench/floor-server.ts: node:net rewriting each frame's bytes, nothing decoded but a direct message's addressee, nothing stored, TCP_NODELAY; an echo a write a chunk, direct messages a write a connection a turn) beside the server in the same runs: x server is the floor's median over the server's, so CPU x server is the share of the server's CPU that node:net and the kernel need anyway`,
    '',
    besideTable(
      'floor',
      'server',
      besideServer((cell) => echoesOf(plain(loadRuns), 'floor', cell), floorDirectRuns),
    ),
  ].join('\n');
  const elapsed = (performance.now() - started) / 1000;
  const report = [
    `npm run bench, ${new Date().toISOString()}: ${machine}; ${where.pinned ? 'server on CPU 0, load tester on CPU 1' : 'not pinned'}; ${RUNS} runs a cell, ${MESSAGE_BYTES}-byte messages`,
    '',
    text,
    '',
    floorText,
    '',
    `Direct messages, the server alone (the baseline has none); ${DIRECT_CELLS.map((cell) => `${cell.name}: ${figure(cell.messages)} messages a sender`).join(', ')}`,
    '',
    directTable(plain(directRuns)),
    '',
    clusterSkipped === undefined
      ? [
          `Direct messages through a cluster of ${CLUSTER_CELL.nodes} nodes and one redis-server (every pair spanning two nodes; server CPU is both nodes' and redis-server's), beside the single server's ${DIRECT_ONLINE.name} of the same runs; ${figure(CLUSTER_CELL.messages)} messages a sender`,
          '',
          clusterTable(plain(directRuns), clusterRuns),
        ].join('\n')
      : `No cluster cell: ${clusterSkipped}.`,
    '',
    `${figure(connections)} connections held (median of ${RUNS} runs, range in brackets). ${files}${halfConnectionRuns.length > 0 ? ' The server also holds half as many, on a server of their own: the RSS that the second half adds is what each connection costs, without the fixed costs (the young generation grows by 16 MB in any burst of connects), and the target projects from it what each of 50,000 would cost. Its handshake figures are not for comparing: fewer connections share the same fixed costs, and its load tester connects past the ports of the cells before it, still in TIME_WAIT.' : ''}`,
    '',
    connectionTable([
      ['server', runsOf(plainConnections, 'server')],
      ['baseline', runsOf(plainConnections, 'baseline')],
      ...(halfConnectionRuns.length > 0
        ? [['server, half as many', halfConnectionRuns] as const]
        : []),
    ]),
    '',
    tlsText,
    '',
    'Targets',
    '',
    targets({
      medians,
      floor: plain(loadRuns),
      floorDirects: floorDirectRuns,
      connections: plainConnections,
      halves: halfConnectionRuns,
      held: connections,
      directs: plain(directRuns),
      clusters: clusterRuns,
      clusterSkipped,
    }),
    '',
    `The server starts listening in ${figure(spread(startSeconds).median, 3)} s (median of ${startSeconds.length} starts). Errors in all runs: ${errors}. The bench took ${figure(elapsed)} s.`,
  ].join('\n');
  process.stdout.write(`${report}\n`);

  const directory = join(ROOT, 'bench', 'results');
  mkdirSync(directory, { recursive: true });
  const file = join(directory, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ machine, placement: where, loadRuns, directRuns, floorDirectRuns, clusterRuns, connectionRuns, halfConnectionRuns, startSeconds, report }, null, 2)}\n`,
  );
  process.stderr.write(`raw results: ${file}\n`);
  if (errors > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
