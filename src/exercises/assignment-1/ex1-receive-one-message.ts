import {
  concatMap,
  concatWith,
  filter,
  ignoreElements,
  map,
  switchMap,
  take,
  tap,
  throwIfEmpty,
} from 'rxjs';
import { exitWith, runProgram } from '../../cli/program';
import { describeNetworkError } from '../../transport/network-errors';
import { connectionFlags, parseFlags } from '../../cli/flags';
import { decodeWith } from '../../protocol/decode-with';
import { lineCodec } from '../../protocol/line-codec';
import { formatAddress, listen } from '../../transport/tcp';

/**
 * Assignment 1, exercise 1: accept one connection, receive one text message (a line, or what
 * arrives before the client closes), print it, send it back, and exit.
 */
runProgram('npm run a1:ex1 -- [--host H] [--port P]', () => {
  const { host, port } = parseFlags(process.argv.slice(2), connectionFlags);
  const lines = lineCodec();
  listen(host, port)
    .pipe(
      tap((event) => {
        if (event.type === 'listening') process.stderr.write(`listening on ${event.address}\n`);
      }),
      filter((event) => event.type === 'connection'),
      take(1),
      map((event) => event.transport),
      switchMap((transport) =>
        transport.chunks.pipe(
          decodeWith(lines),
          concatMap((batch) => batch),
          take(1),
          throwIfEmpty(() => new Error('the client closed the connection without a message')),
          tap((message) => {
            process.stdout.write(`${message}\n`);
            transport.write(lines.encode([message]));
            transport.end();
          }),
          concatWith(transport.closed),
          ignoreElements(),
        ),
      ),
    )
    .subscribe({
      error: (error: unknown) =>
        exitWith(1, `cannot serve on ${formatAddress(host, port)}: ${describeNetworkError(error)}`),
      complete: () => exitWith(0),
    });
});
