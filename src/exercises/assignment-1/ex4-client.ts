import { textClient } from '../../client/text-client';
import { runClient } from '../../cli/client-program';
import { flag, parseFlags } from '../../cli/flags';
import { runProgram } from '../../cli/program';
import { lineCodec } from '../../protocol/line-codec';

/**
 * Assignment 1, exercise 4's client: sends each line and prints each reply; a line `end`, or
 * the end of input, sends `end` and ends the client.
 */
runProgram('npm run a1:ex4:client -- [--host H] [--port P]', () => {
  const flags = parseFlags(process.argv.slice(2), { host: flag.host(), port: flag.port() });
  runClient({
    ...flags,
    outgoing: lineCodec(),
    incoming: lineCodec(),
    conversation: (reply$, line$) => textClient(reply$, line$, { saysEnd: true }),
  });
});
