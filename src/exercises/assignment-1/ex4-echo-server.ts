import { textEchoService } from '../../server/echo-services';
import { runServerProgram } from '../../cli/server-program';

/**
 * Assignment 1, exercise 4: many clients at once, each its own stream (the exercise's thread
 * per client), each line echoed until the client sends `end`.
 */
runServerProgram('npm run a1:ex4 --', {
  sizeFlag: 'max-line-bytes',
  service: textEchoService,
  console: false,
});
