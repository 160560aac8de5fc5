import Long from 'long';
import { converse } from '../../client/conversation';
import { CHAT_END_LINE } from '../../client/chat-client';
import { runClient } from '../../cli/client-program';
import { chatClientFlags, parseFlags } from '../../cli/flags';
import { runProgram } from '../../cli/program';
import { chatMessageCodec } from '../../protocol/chat-codec';

/** Assignment 2, exercise 2's client: each line as a ChatMessage; prints each echo's text. */
runProgram('npm run a2:ex2:client -- [--host H] [--port P] [--to ID]', () => {
  const flags = parseFlags(process.argv.slice(2), chatClientFlags);
  runClient({
    ...flags,
    outgoing: chatMessageCodec(),
    incoming: chatMessageCodec(),
    conversation: (echo$, line$) =>
      converse(line$, echo$, {
        message: (msg) => ({ from: Long.ZERO, to: flags.to, msg }),
        react: (echo) => ({ effects: [{ type: 'print', text: echo.msg }], settles: 1 }),
        endLine: CHAT_END_LINE,
      }),
  });
});
