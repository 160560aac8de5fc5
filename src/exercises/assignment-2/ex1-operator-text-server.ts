import { textEchoService } from '../../server/echo-services';
import { runServerProgram } from '../../cli/server-program';

/** Assignment 2, exercise 1: the text echo server with an operator console (`num_users`, …). */
runServerProgram('npm run a2:ex1 --', {
  sizeFlag: 'max-line-bytes',
  service: textEchoService,
  console: true,
});
