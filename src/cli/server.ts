import { chatService } from '../server/chat-service';
import { runProgram } from './program';
import { serveFromCommandLine, serverUsage } from './server-program';

const usage = serverUsage('npm start --', 'max-frame-bytes');

runProgram(usage, () =>
  serveFromCommandLine(process.argv.slice(2), {
    sizeFlag: 'max-frame-bytes',
    service: chatService,
    console: true,
  }),
);
