import { runTextClient } from '../../cli/text-client-program';

/**
 * Assignment 1, exercise 4's client: sends each line and prints each reply; a line `end`, or
 * the end of input, sends `end` and ends the client.
 */
runTextClient('npm run a1:ex4:client -- [--host H] [--port P]', { saysEnd: true });
