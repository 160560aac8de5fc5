import { DirectMessageCounters } from '../chat/direct-message-counters';
import { chatService, DEFAULT_MAX_PENDING } from '../server/chat-service';
import { SqliteStore } from '../store/sqlite-store';
import { flag } from './flags';
import { runServerProgram } from './server-program';

runServerProgram('npm start --', {
  sizeFlag: 'max-frame-bytes',
  flags: {
    db: flag.text('chat.db', 'a file name, or :memory:'),
    'max-pending': flag.count(DEFAULT_MAX_PENDING),
    fsync: flag.choice('normal', ['normal', 'always'] as const),
  },
  flagsUsage: '[--db FILE] [--max-pending N] [--fsync normal|always]',
  console: true,
  setup: (flags, maxFrameBytes) => {
    const store = new SqliteStore({ file: flags.db, fsync: flags.fsync });
    const counters = new DirectMessageCounters();
    return {
      service: chatService({ store, maxFrameBytes, maxPending: flags['max-pending'], counters }),
      lastUserId: store.lastUserId,
      operatorDeps: { knownUsers: () => store.users(), directMessages: counters },
      close: () => store.close(),
    };
  },
});
