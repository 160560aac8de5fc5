import { textClient } from '../../client/text-client';
import { runClient } from '../../cli/client-program';
import { flag, parseFlags } from '../../cli/flags';
import { runProgram } from '../../cli/program';
import { lineCodec } from '../../protocol/line-codec';

/** Assignment 1, exercise 2: send each line typed (or piped) to the server, print each reply. */
runProgram('npm run a1:ex2 -- [--host H] [--port P]', () => {
  const flags = parseFlags(process.argv.slice(2), { host: flag.host(), port: flag.port() });
  runClient({
    ...flags,
    outgoing: lineCodec(),
    incoming: lineCodec(),
    conversation: (reply$, line$) => textClient(reply$, line$, { saysEnd: false }),
  });
});
