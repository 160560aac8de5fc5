import { clearLine, cursorTo } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { LoadMode } from '../loadtest/load-modes';
import { runLoadTest } from '../loadtest/load-test';
import { formatProgress, formatSummary } from '../loadtest/report';
import { parsePortList } from '../loadtest/server-ports';
import {
  connectionsPerAddress,
  sourceAddressCount,
  sourceAddressOf,
  SourcePorts,
} from '../loadtest/source-addresses';
import { connectionFlags, Flag, flag, parseFlags, UsageError } from './flags';
import { connectFrom, localPortRange } from './load-connections';
import { exitWith, runProgram } from './program';
import { clientTls, TLS_CLIENT_USAGE, tlsClientFlags } from './tls-flags';

const STALL_MS = 5000;

/** `--ports P1,P2,…`: the servers of one cluster, on `--host`; given, it replaces `--port`. */
const portList: Flag<readonly number[] | undefined> = {
  takesValue: true,
  fallback: undefined,
  parse: (text, name) => {
    try {
      return parsePortList(text);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new UsageError(
        `--${name} must be a comma list of different ports, as 8080,8081, not "${text}": ${why}`,
      );
    }
  },
};

function modeOf(flags: { direct: boolean; offline: boolean; clients: number }): LoadMode {
  if (flags.offline && !flags.direct) throw new UsageError('--offline goes with --direct');
  if (flags.direct && flags.clients % 2 !== 0) {
    throw new UsageError(
      `--direct pairs the clients: --clients must be even, not ${flags.clients}`,
    );
  }
  if (!flags.direct) return 'echo';
  return flags.offline ? 'offline' : 'direct';
}

runProgram(
  'npm run loadtest -- [--host H] [--port P | --ports P1,P2,...] [--clients C] [--messages M] [--window W] [--size S] [--direct [--offline]] [--duration SEC] [--hold SEC] [--json] ' +
    `${TLS_CLIENT_USAGE} (--tls without --ca does not verify the server's certificate)`,
  () => {
    const flags = parseFlags(process.argv.slice(2), {
      ...connectionFlags,
      ports: portList,
      clients: flag.count(10, 1, 100_000),
      messages: flag.count(10_000, 0),
      window: flag.count(32, 1, 1_000_000),
      size: flag.count(32, 0, 1024 * 1024),
      direct: flag.switch(),
      offline: flag.switch(),
      duration: flag.count(60, 1, 24 * 3600),
      hold: flag.count(0, 0, 24 * 3600),
      json: flag.switch(),
      ...tlsClientFlags,
    });
    // A test tool: over TLS without --ca, it takes the server's certificate unverified.
    const tls = clientTls(flags, false);
    const mode = modeOf(flags);
    // Client i connects to ports[i % n] (the modes say which i): a pair spans two servers.
    const ports = flags.ports ?? [flags.port];
    const portOf = (server: number): number => {
      const port = ports[server];
      if (port === undefined) throw new Error(`no server ${server} of ${ports.length}`);
      return port;
    };
    // Past what one source address's ports allow, loopback clients connect from several.
    const range = localPortRange();
    const sources = sourceAddressCount(flags.host, flags.clients, range);
    const sourcePorts = new SourcePorts(range);
    const sourceOf = (client: number) => {
      const address = sourceAddressOf(client, sources);
      return address === undefined ? undefined : { address, ports: sourcePorts };
    };
    if (sources > 1) {
      process.stderr.write(
        `connecting from ${sources} source addresses, ${sourceAddressOf(0, sources)} to ${sourceAddressOf(sources - 1, sources)}: ` +
          `at most ${connectionsPerAddress(range)} connections each, half of the ephemeral ports ${range.low}-${range.high}\n`,
      );
    }
    const showProgress = process.stderr.isTTY;
    let last = { at: performance.now(), label: '', done: 0 };
    let exitCode = 0;

    runLoadTest(
      {
        ...flags,
        mode,
        servers: ports.length,
        durationMs: flags.duration * 1000,
        stallMs: STALL_MS,
        holdMs: flags.hold * 1000,
      },
      (server, client) => connectFrom(flags.host, portOf(server), tls, sourceOf(client)),
      () => performance.now(),
    ).subscribe({
      next: (event) => {
        if (event.type === 'holding') {
          process.stderr.write(`holding ${event.connections} connections for ${event.seconds} s\n`);
          return;
        }
        if (event.type === 'progress') {
          if (!showProgress) return;
          const now = { at: performance.now(), label: event.label, done: event.done };
          const since = now.label === last.label ? last.done : 0;
          const perSecond = ((now.done - since) * 1000) / Math.max(1, now.at - last.at);
          last = now;
          cursorTo(process.stderr, 0);
          process.stderr.write(formatProgress(event.label, event.done, event.expected, perSecond));
          clearLine(process.stderr, 1);
          return;
        }
        if (showProgress) {
          cursorTo(process.stderr, 0);
          clearLine(process.stderr, 0);
        }
        const { summary } = event;
        process.stdout.write(
          flags.json
            ? `${JSON.stringify({ ...summary, sourceAddresses: sources })}\n`
            : `${formatSummary(summary).join('\n')}\n`,
        );
        exitCode = summary.errors > 0 ? 1 : 0;
      },
      error: (error: unknown) =>
        exitWith(1, `load test failed: ${error instanceof Error ? error.message : String(error)}`),
      complete: () => exitWith(exitCode),
    });
  },
);
