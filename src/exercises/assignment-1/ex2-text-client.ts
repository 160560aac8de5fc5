import { runTextClient } from '../../cli/text-client-program';

/** Assignment 1, exercise 2: send each line typed (or piped) to the server, print each reply. */
runTextClient('npm run a1:ex2 -- [--host H] [--port P]', { saysEnd: false });
