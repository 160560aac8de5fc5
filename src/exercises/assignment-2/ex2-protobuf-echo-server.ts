import { runProgram } from '../../cli/program';
import { serveFromCommandLine, serverUsage } from '../../cli/server-program';
import { chatEchoService } from '../../server/echo-services';

/** Assignment 2, exercise 2: ChatMessages echoed exactly as sent; no handshake yet. */
runProgram(serverUsage('npm run a2:ex2 --', 'max-frame-bytes'), () =>
  serveFromCommandLine(process.argv.slice(2), {
    sizeFlag: 'max-frame-bytes',
    service: chatEchoService,
    console: true,
  }),
);
