import { textEchoService } from '../../server/echo-services';
import { plainServer, runServerProgram } from '../../cli/server-program';

/** Assignment 2, exercise 1: the text echo server with an operator console (`num_users`, …). */
runServerProgram('npm run a2:ex1 --', plainServer('max-line-bytes', textEchoService, true));
