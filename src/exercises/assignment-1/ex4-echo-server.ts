import { textEchoService } from '../../server/echo-services';
import { plainServer, runServerProgram } from '../../cli/server-program';

/**
 * Assignment 1, exercise 4: many clients at once, each its own stream (the exercise's thread
 * per client), each line echoed until the client sends `end`.
 */
runServerProgram('npm run a1:ex4 --', plainServer('max-line-bytes', textEchoService, false));
