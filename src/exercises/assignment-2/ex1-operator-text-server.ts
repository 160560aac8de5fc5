import { runProgram } from '../../cli/program';
import { serveFromCommandLine, serverUsage } from '../../cli/server-program';
import { textEchoService } from '../../server/echo-services';

/** Assignment 2, exercise 1: the text echo server with an operator console (`num_users`, …). */
runProgram(serverUsage('npm run a2:ex1 --', 'max-line-bytes'), () =>
  serveFromCommandLine(process.argv.slice(2), {
    sizeFlag: 'max-line-bytes',
    service: textEchoService,
    console: true,
  }),
);
