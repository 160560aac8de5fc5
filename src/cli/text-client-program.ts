import { textClient, TextClientOptions } from '../client/text-client';
import { lineCodec } from '../protocol/line-codec';
import { runClient } from './client-program';
import { connectionFlags, parseFlags } from './flags';
import { runProgram } from './program';

/** Runs Assignment 1's text client from the command line. */
export function runTextClient(usage: string, options: TextClientOptions): void {
  runProgram(usage, () =>
    runClient({
      ...parseFlags(process.argv.slice(2), connectionFlags),
      outgoing: lineCodec(),
      incoming: lineCodec(),
      conversation: (reply$, line$) => textClient(reply$, line$, options),
    }),
  );
}
