import { createInterface } from 'node:readline';
import {
  catchError,
  concatMap,
  concatWith,
  defer,
  filter,
  fromEvent,
  ignoreElements,
  Observable,
  switchMap,
  takeUntil,
  tap,
  throwError,
} from 'rxjs';
import { ClientError } from '../client/client-error';
import { ClientEffect } from '../client/conversation';
import { Codec } from '../protocol/codec';
import { decodeWith } from '../protocol/decode-with';
import { connect, formatAddress } from '../transport/tcp';
import { connectTls, TlsTrust } from '../transport/tls';
import { Transport } from '../transport/transport';
import { describeNetworkError } from '../transport/network-errors';
import { exitWith } from './program';

/** Standard input's lines; reading starts at subscription, so nothing is read before it is wanted. */
export function stdinLines(): Observable<string> {
  return new Observable<string>((subscriber) => {
    const readline = createInterface({ input: process.stdin, terminal: false });
    const subscription = fromEvent(readline, 'line', (line: string) => line)
      .pipe(takeUntil(fromEvent(readline, 'close')))
      .subscribe(subscriber);
    return () => {
      subscription.unsubscribe();
      readline.close();
    };
  });
}

export interface ClientProgram<Send, Receive, Extra = never> {
  readonly host: string;
  readonly port: number;
  /** Over TLS, checking the server so; plain TCP when undefined. */
  readonly tls?: TlsTrust | undefined;
  readonly outgoing: Codec<Send>;
  readonly incoming: Codec<Receive>;
  readonly conversation: (
    reply$: Observable<Receive>,
    line$: Observable<string>,
  ) => Observable<ClientEffect<Send, Extra>>;
  /** Does the program's own effects; one that throws a ClientError ends the client with its message. */
  readonly perform?: (effect: Extra) => void;
}

/** What the client prints: on stdout, or as a status line on stderr. */
type Printed = Extract<ClientEffect<never>, { type: 'print' | 'status' }>;

function isOutput<Send, Extra>(effect: ClientEffect<Send, Extra>): effect is Printed {
  const { type } = effect as { type?: unknown };
  return type === 'print' || type === 'status';
}

function isSend<Send, Extra>(
  effect: ClientEffect<Send, Extra>,
): effect is { readonly type: 'send'; readonly message: Send } {
  return (effect as { type?: unknown }).type === 'send';
}

/** The conversation over one connection: sends its messages, emits what to print, and completes once the connection has closed. */
function talk<Send, Receive, Extra>(
  transport: Transport,
  program: ClientProgram<Send, Receive, Extra>,
): Observable<Printed> {
  const reply$ = transport.chunks.pipe(
    decodeWith(program.incoming),
    concatMap((batch) => batch),
  );
  return program.conversation(reply$, stdinLines()).pipe(
    tap({
      next: (effect) => {
        if (isSend(effect)) transport.write(program.outgoing.encode([effect.message]));
        else if (!isOutput(effect)) program.perform?.(effect);
      },
      error: () => transport.destroy(),
    }),
    filter(isOutput),
    concatWith(
      defer(() => {
        transport.end();
        return transport.closed.pipe(ignoreElements());
      }),
    ),
  );
}

function describeFailure(error: unknown): string {
  return error instanceof ClientError
    ? error.message
    : `lost the connection to the server: ${describeNetworkError(error)}`;
}

/**
 * Runs a client from the command line: connects, then plays the conversation between stdin and
 * the server: replies on stdout, status lines on stderr. It exits 0 when the conversation is
 * over, and 1 with a one-line reason when it fails.
 */
export function runClient<Send, Receive, Extra = never>(
  program: ClientProgram<Send, Receive, Extra>,
): void {
  const where = formatAddress(program.host, program.port);
  const { host, port, tls } = program;
  (tls ? connectTls(host, port, tls) : connect(host, port))
    .pipe(
      catchError((error: unknown) =>
        throwError(
          () => new ClientError(`cannot connect to ${where}: ${describeNetworkError(error)}`),
        ),
      ),
      switchMap((transport) => talk(transport, program)),
    )
    .subscribe({
      next: ({ type, text }) => {
        if (type === 'print') process.stdout.write(`${text}\n`);
        else process.stderr.write(`${text}\n`);
      },
      error: (error: unknown) => exitWith(1, describeFailure(error)),
      complete: () => exitWith(0),
    });
}
