import { runProgram } from '../../cli/program';
import { serveFromCommandLine, serverUsage } from '../../cli/server-program';
import { textEchoService } from '../../server/echo-services';

/**
 * Assignment 1, exercise 4: many clients at once, each its own stream (the exercise's thread
 * per client), each line echoed until the client sends `end`.
 */
runProgram(serverUsage('npm run a1:ex4 --', 'max-line-bytes'), () =>
  serveFromCommandLine(process.argv.slice(2), {
    sizeFlag: 'max-line-bytes',
    service: textEchoService,
    console: false,
  }),
);
