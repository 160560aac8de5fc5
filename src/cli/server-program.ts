import { EMPTY, map, merge, Observable, shareReplay, Subject, Subscription } from 'rxjs';
import { operator, OperatorDeps, OperatorOutput } from '../server/operator';
import { runServer } from '../server/server';
import { logLine, ServerControl } from '../server/server-events';
import { Service, UserId } from '../server/service';
import { formatAddress, listen } from '../transport/tcp';
import { connectionFlags, Flag, flag, FlagValues, parseFlags } from './flags';
import { openOperatorConsole } from './operator-console';
import { describeNetworkError } from '../transport/network-errors';
import { exitWith, runProgram } from './program';

type SizeFlag = 'max-frame-bytes' | 'max-line-bytes';

/** What a server program runs: its service, and what it opened for it. */
export interface ServerSetup<In, Out, Extra> {
  readonly service: Service<In, Out, Extra>;
  /** The last user id given out before, when ids outlive the process. */
  readonly lastUserId?: UserId;
  readonly operatorDeps?: OperatorDeps;
  /** Releases what the setup opened, once the server has stopped. */
  close?(): void;
}

export interface ServerProgram<In, Out, Extra, Spec extends Record<string, Flag<unknown>>> {
  /** The flag that limits the size of what a client sends: a frame, or a line. */
  readonly sizeFlag: SizeFlag;
  /** The program's own flags, and how the usage line shows them. */
  readonly flags: Spec;
  readonly flagsUsage?: string;
  /** Whether the operator console reads stdin. */
  readonly console: boolean;
  /** Opens what the service needs; a failure is one line on stderr and exit code 1. */
  setup(flags: FlagValues<Spec>, maxBytes: number): ServerSetup<In, Out, Extra>;
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
  const usage = `${command} [--host H] [--port P] [--max-clients N] [--${program.sizeFlag} B]${own}`;
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
  const common = { ...connectionFlags, 'max-clients': flag.count(10_000), ...sizeFlag };
  // One parse, so that a flag neither part knows is an error; each part reads its own flags.
  const flags = parseFlags(process.argv.slice(2), { ...common, ...program.flags }) as FlagValues<
    typeof common
  > &
    FlagValues<Spec>;
  const maxBytes = flags[program.sizeFlag];
  const setup = program.setup(flags, maxBytes);
  const console = program.console ? openOperatorConsole() : undefined;
  const log = (text: string) => {
    if (console) console.log(text);
    else process.stderr.write(`${text}\n`);
  };

  const controls = new Subject<ServerControl>();
  const update$ = runServer(listen(flags.host, flags.port), controls, setup.service, {
    maxClients: flags['max-clients'],
    ...(setup.lastUserId === undefined ? {} : { lastUserId: setup.lastUserId }),
  }).pipe(shareReplay(1));
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
    setup.close?.();
    exitWith(code, message);
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
