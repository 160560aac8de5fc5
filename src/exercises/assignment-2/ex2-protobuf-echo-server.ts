import { chatEchoService } from '../../server/echo-services';
import { plainServer, runServerProgram } from '../../cli/server-program';

/** Assignment 2, exercise 2: ChatMessages echoed exactly as sent; no handshake yet. */
runServerProgram('npm run a2:ex2 --', plainServer('max-frame-bytes', chatEchoService, true));
