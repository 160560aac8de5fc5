import { chatClient } from '../client/chat-client';
import { chatMessageCodec, serverFrameCodec } from '../protocol/chat-codec';
import { runClient } from './client-program';
import { chatClientFlags, flag, parseFlags } from './flags';
import { readIdentityFile, writeIdentityFile } from './identity-file';
import { runProgram } from './program';
import { clientTls, TLS_CLIENT_USAGE, tlsClientFlags } from './tls-flags';

/** A server's echo carries a `from` that can be a few bytes longer than what was sent. */
const MAX_RECEIVED_FRAME_BYTES = 16 * 1024 * 1024;

const USAGE = `npm run client -- [--host H] [--port P] [--to ID] [--identity FILE] ${TLS_CLIENT_USAGE}`;

runProgram(USAGE, () => {
  const flags = parseFlags(process.argv.slice(2), {
    ...chatClientFlags,
    identity: flag.text('', 'a file name'),
    ...tlsClientFlags,
  });
  const tls = clientTls(flags);
  const file = flags.identity === '' ? undefined : flags.identity;
  const resuming = file === undefined ? undefined : readIdentityFile(file);
  runClient({
    host: flags.host,
    port: flags.port,
    tls,
    outgoing: chatMessageCodec(),
    incoming: serverFrameCodec(MAX_RECEIVED_FRAME_BYTES),
    conversation: (frame$, line$) => chatClient(frame$, line$, flags.to, resuming),
    perform: ({ identity }) => {
      if (file !== undefined) writeIdentityFile(file, identity);
    },
  });
});
