import { EMPTY, map, merge, Observable, shareReplay, Subject, Subscription } from 'rxjs';
import { operator, OperatorDeps, OperatorOutput } from '../server/operator';
import { ConnectionLimits } from '../server/limits';
import { runServer, ServerOptions, ServerUpdate } from '../server/server';
import { logLine, ServerControl } from '../server/server-events';
import { Service, UserId } from '../server/service';
import { DEFAULT_TRANSPORT_OPTIONS } from '../transport/socket-transport';
import { formatAddress, listen } from '../transport/tcp';
import { connectionFlags, Flag, flag, FlagValues, parseFlags } from './flags';
import { OperatorConsole, openOperatorConsole } from './operator-console';
import { describeNetworkError } from '../transport/network-errors';
import { describeError } from '../server/failure-text';
import { exitWith, runProgram } from './program';

type SizeFlag = 'max-frame-bytes' | 'max-line-bytes';

/** The limits every server has, each 0 for none. */
const limitFlags = {
  'max-clients-per-ip': flag.count(0, 0),
  'max-msgs-per-sec': flag.count(0, 0),
  'msgs-burst': flag.count(0, 0),
  'idle-timeout': flag.count(0, 0, 365 * 24 * 3600),
  'frame-timeout': flag.count(60, 0, 24 * 3600),
};

/** The limits of each connection from the flags; a burst of 0 is twice the rate. */
function limitsOf(flags: FlagValues<typeof limitFlags>): ConnectionLimits {
  const rate = flags['max-msgs-per-sec'];
  return {
    maxMsgsPerSec: rate,
    msgsBurst: flags['msgs-burst'] > 0 ? flags['msgs-burst'] : 2 * rate,
    idleTimeoutMs: flags['idle-timeout'] * 1000,
    frameTimeoutMs: flags['frame-timeout'] * 1000,
  };
}

/** What a server program runs: its service, and what it opened for it. */
export interface ServerSetup<In, Out, Extra> {
  readonly service: Service<In, Out, Extra>;
  /** The last user id given out before, when ids outlive the process. */
  readonly lastUserId?: UserId;
  /** Where the ids come from and signals go, when not from this server alone (a cluster). */
  readonly nextId?: ServerOptions<Extra>['nextId'];
  readonly switchboard?: ServerOptions<Extra>['switchboard'];
  readonly operatorDeps?: OperatorDeps;
  /** How the server listens: plain TCP (`listen`) unless the setup says otherwise (TLS). */
  readonly listen?: typeof listen;
  /** Follows the server's updates while it runs (a cluster node's heartbeat). */
  follow?(update$: Observable<ServerUpdate>): void;
  /** Releases what the setup opened, once the server has stopped. */
  close?(): void | Promise<void>;
}

export interface ServerProgram<In, Out, Extra, Spec extends Record<string, Flag<unknown>>> {
  /** The flag that limits the size of what a client sends: a frame, or a line. */
  readonly sizeFlag: SizeFlag;
  /** The program's own flags, and how the usage line shows them. */
  readonly flags: Spec;
  readonly flagsUsage?: string;
  /** Whether the operator console reads stdin. */
  readonly console: boolean;
  /**
   * Opens what the service needs, at once or in time; `log` writes a line to the server's log. A
   * failure is one line on stderr and exit code 1.
   */
  setup(
    flags: FlagValues<Spec>,
    maxBytes: number,
    log: (line: string) => void,
  ): ServerSetup<In, Out, Extra> | Promise<ServerSetup<In, Out, Extra>>;
}

function signal$(name: NodeJS.Signals): Observable<void> {
  return new Observable<void>((subscriber) => {
    const handler = () => subscriber.next();
    process.on(name, handler);
    return () => process.off(name, handler);
  });
}

/**
 * Runs a server from the command line, as `command` (how the usage line names it): logs on
 * stderr, the operator console on stdin and stdout; SIGINT, SIGTERM, Ctrl-C at the prompt and
 * `quit` shut it down gracefully (exit 0); a port it cannot listen on is exit 1.
 */
export function runServerProgram<In, Out, Extra, Spec extends Record<string, Flag<unknown>>>(
  command: string,
  program: ServerProgram<In, Out, Extra, Spec>,
): void {
  const own = program.flagsUsage === undefined ? '' : ` ${program.flagsUsage}`;
  const limits =
    '[--max-clients-per-ip N] [--max-msgs-per-sec N [--msgs-burst N]] [--idle-timeout SEC] [--frame-timeout SEC]';
  const usage = `${command} [--host H] [--port P] [--max-clients N] [--${program.sizeFlag} B] ${limits}${own}`;
  runProgram(usage, () => serve(program));
}

function serve<In, Out, Extra, Spec extends Record<string, Flag<unknown>>>(
  program: ServerProgram<In, Out, Extra, Spec>,
): void {
  // Only the program's own size flag is in the spec; the type names both, and only that one is read.
  const sizeFlag = { [program.sizeFlag]: flag.count(65_536, 1, 64 * 1024 * 1024) } as Record<
    SizeFlag,
    Flag<number>
  >;
  const common = {
    ...connectionFlags,
    'max-clients': flag.count(10_000),
    ...limitFlags,
    ...sizeFlag,
  };
  // One parse, so that a flag neither part knows is an error; each part reads its own flags.
  const flags = parseFlags(process.argv.slice(2), { ...common, ...program.flags }) as FlagValues<
    typeof common
  > &
    FlagValues<Spec>;
  const maxBytes = flags[program.sizeFlag];
  // Set up before the console opens: a setup that fails at once says so alone, on stderr.
  const opened: { console?: OperatorConsole } = {};
  const log = (text: string) => {
    if (opened.console) opened.console.log(text);
    else process.stderr.write(`${text}\n`);
  };
  const ready = program.setup(flags, maxBytes, log);
  const console = program.console ? openOperatorConsole() : undefined;
  if (console) opened.console = console;
  if (!(ready instanceof Promise)) {
    run(flags, ready, console, log);
    return;
  }
  ready.then(
    (setup) => run(flags, setup, console, log),
    (error: unknown) => {
      console?.close();
      exitWith(1, describeError(error));
    },
  );
}

function run<In, Out, Extra>(
  flags: FlagValues<typeof connectionFlags & { 'max-clients': Flag<number> } & typeof limitFlags>,
  setup: ServerSetup<In, Out, Extra>,
  console: OperatorConsole | undefined,
  log: (line: string) => void,
): void {
  const controls = new Subject<ServerControl>();
  const { lastUserId, nextId, switchboard } = setup;
  // With an idle timeout, TCP keepalive too: a peer that vanished without a word is noticed.
  const idleMs = flags['idle-timeout'] * 1000;
  const transport = {
    ...DEFAULT_TRANSPORT_OPTIONS,
    ...(idleMs > 0 ? { keepAliveMs: idleMs / 2 } : {}),
  };
  const listener$ = (setup.listen ?? listen)(flags.host, flags.port, transport);
  const update$ = runServer(listener$, controls, setup.service, {
    maxClients: flags['max-clients'],
    maxClientsPerAddress: flags['max-clients-per-ip'],
    limits: limitsOf(flags),
    ...(lastUserId === undefined ? {} : { lastUserId }),
    ...(nextId === undefined ? {} : { nextId }),
    ...(switchboard === undefined ? {} : { switchboard }),
  }).pipe(shareReplay(1));
  setup.follow?.(update$);
  const shutdown: OperatorOutput = { control: { type: 'shutdown' } };
  const state$ = update$.pipe(map((update) => update.state));
  const request$ = merge(
    merge(signal$('SIGINT'), signal$('SIGTERM'), console?.interrupt$ ?? EMPTY).pipe(
      map(() => shutdown),
    ),
    console ? operator(console.line$, state$, setup.operatorDeps) : EMPTY,
  );

  const running = new Subscription();
  const stop = (code: number, message?: string) => {
    running.unsubscribe();
    console?.close();
    void Promise.resolve(setup.close?.()).finally(() => exitWith(code, message));
  };
  running.add(
    update$.subscribe({
      next: ({ event }) => log(logLine(event)),
      error: (error: unknown) =>
        stop(
          1,
          `cannot listen on ${formatAddress(flags.host, flags.port)}: ${describeNetworkError(error)}`,
        ),
      complete: () => stop(0),
    }),
  );
  running.add(
    request$.subscribe((output) => {
      if ('answer' in output) console?.answer(output.answer);
      else controls.next(output.control);
    }),
  );
}

/** A server program whose service needs nothing but its size limit: the course's exercises. */
export function plainServer<In, Out, Extra>(
  sizeFlag: SizeFlag,
  service: (maxBytes: number) => Service<In, Out, Extra>,
  console: boolean,
): ServerProgram<In, Out, Extra, Record<string, never>> {
  return {
    sizeFlag,
    flags: {},
    console,
    setup: (_flags, maxBytes) => ({ service: service(maxBytes) }),
  };
}
