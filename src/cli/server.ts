import { chatService } from '../server/chat-service';
import { runServerProgram } from './server-program';

runServerProgram('npm start --', {
  sizeFlag: 'max-frame-bytes',
  service: chatService,
  console: true,
});
