import { EMPTY, map, merge, Observable, shareReplay, Subject, Subscription } from 'rxjs';
import { operator, OperatorOutput } from '../server/operator';
import { runServer } from '../server/server';
import { logLine, ServerControl } from '../server/server-events';
import { Service } from '../server/service';
import { formatAddress, listen } from '../transport/tcp';
import { connectionFlags, Flag, flag, parseFlags } from './flags';
import { openOperatorConsole } from './operator-console';
import { describeNetworkError } from '../transport/network-errors';
import { exitWith, runProgram } from './program';

type SizeFlag = 'max-frame-bytes' | 'max-line-bytes';

export interface ServerProgram<In, Out> {
  /** The flag that limits the size of what a client sends: a frame, or a line. */
  readonly sizeFlag: SizeFlag;
  readonly service: (maxBytes: number) => Service<In, Out>;
  /** Whether the operator console reads stdin. */
  readonly console: boolean;
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
export function runServerProgram<In, Out>(command: string, program: ServerProgram<In, Out>): void {
  const usage = `${command} [--host H] [--port P] [--max-clients N] [--${program.sizeFlag} B]`;
  runProgram(usage, () => serve(program));
}

function serve<In, Out>(program: ServerProgram<In, Out>): void {
  // Only the program's own size flag is in the spec; the type names both, and only that one is read.
  const sizeFlag = { [program.sizeFlag]: flag.count(65_536, 1, 64 * 1024 * 1024) } as Record<
    SizeFlag,
    Flag<number>
  >;
  const flags = parseFlags(process.argv.slice(2), {
    ...connectionFlags,
    'max-clients': flag.count(10_000),
    ...sizeFlag,
  });
  const maxBytes = flags[program.sizeFlag];
  const console = program.console ? openOperatorConsole() : undefined;
  const log = (text: string) => {
    if (console) console.log(text);
    else process.stderr.write(`${text}\n`);
  };

  const controls = new Subject<ServerControl>();
  const update$ = runServer(listen(flags.host, flags.port), controls, program.service(maxBytes), {
    maxClients: flags['max-clients'],
  }).pipe(shareReplay(1));
  const shutdown: OperatorOutput = { control: { type: 'shutdown' } };
  const request$ = merge(
    merge(signal$('SIGINT'), signal$('SIGTERM'), console?.interrupt$ ?? EMPTY).pipe(
      map(() => shutdown),
    ),
    console ? operator(console.line$, update$.pipe(map((update) => update.state))) : EMPTY,
  );

  const running = new Subscription();
  const stop = (code: number, message?: string) => {
    running.unsubscribe();
    console?.close();
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
