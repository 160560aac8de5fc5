import { concat, concatMap, map, merge, Observable, of, scan, takeWhile, throwError } from 'rxjs';
import { ClientError } from './client-error';

/** What a client does: send, print on stdout, say how it goes on stderr, or its own `Extra`. */
export type ClientEffect<Send, Extra = never> =
  | { readonly type: 'send'; readonly message: Send }
  | { readonly type: 'print'; readonly text: string }
  | { readonly type: 'status'; readonly text: string }
  | Extra;

/** What a client does about one reply. */
export interface Reaction<Send, Extra = never> {
  readonly effects: readonly ClientEffect<Send, Extra>[];
  /**
   * How many of the replies the client waits for this one is: 1 for the answer to one of its
   * messages, 0 for news from elsewhere, negative when it announces that more will come.
   */
  readonly settles: number;
  /** The conversation cannot go on, for this reason. */
  readonly failure?: string;
}

export interface ConversationRules<Send, Reply, Extra = never> {
  /** The message a line of input becomes. */
  message(line: string): Send;
  react(reply: Reply): Reaction<Send, Extra>;
  /** Replies awaited before any line is sent: the answer to a greeting of the client's own. */
  readonly awaiting?: number;
  /** A line that ends the input. */
  readonly endLine?: string;
  /** Sent when the input ends, answered by nothing: how the server is told we are done. */
  readonly farewell?: Send;
}

type Happening<Reply> =
  | { readonly kind: 'line'; readonly line: string }
  | { readonly kind: 'input-ended' }
  | { readonly kind: 'reply'; readonly reply: Reply }
  | { readonly kind: 'server-closed' };

interface Progress<Send, Extra> {
  readonly effects: readonly ClientEffect<Send, Extra>[];
  readonly awaiting: number;
  readonly inputEnded: boolean;
  readonly finished: boolean;
  readonly failure?: string;
}

function advance<Send, Reply, Extra>(
  rules: ConversationRules<Send, Reply, Extra>,
  progress: Progress<Send, Extra>,
  happening: Happening<Reply>,
): Progress<Send, Extra> {
  const next = (changes: Partial<Progress<Send, Extra>>): Progress<Send, Extra> => {
    const state = { ...progress, effects: [], ...changes };
    return { ...state, finished: state.inputEnded && state.awaiting === 0 };
  };
  switch (happening.kind) {
    case 'line':
      return next({
        effects: [{ type: 'send', message: rules.message(happening.line) }],
        awaiting: progress.awaiting + 1,
      });
    case 'input-ended':
      return next({
        effects: rules.farewell === undefined ? [] : [{ type: 'send', message: rules.farewell }],
        inputEnded: true,
      });
    case 'reply': {
      const { effects, settles, failure } = rules.react(happening.reply);
      const after = next({ effects, awaiting: progress.awaiting - settles });
      return failure === undefined ? after : { ...after, failure };
    }
    case 'server-closed': {
      const closed = next({});
      if (closed.finished) return closed;
      const waiting = progress.awaiting > 0 ? ` with ${progress.awaiting} replies outstanding` : '';
      return { ...closed, failure: `the server closed the connection${waiting}` };
    }
  }
}

/**
 * A command-line client's conversation: each input line is sent, each reply printed. It
 * completes once the input has ended and every message sent has its answer, and fails if the
 * server closes the connection before then.
 */
export function converse<Send, Reply, Extra = never>(
  line$: Observable<string>,
  reply$: Observable<Reply>,
  rules: ConversationRules<Send, Reply, Extra>,
): Observable<ClientEffect<Send, Extra>> {
  const input$ = concat(
    line$.pipe(
      takeWhile((line) => line !== rules.endLine),
      map((line): Happening<Reply> => ({ kind: 'line', line })),
    ),
    of<Happening<Reply>>({ kind: 'input-ended' }),
  );
  const server$ = concat(
    reply$.pipe(map((reply): Happening<Reply> => ({ kind: 'reply', reply }))),
    of<Happening<Reply>>({ kind: 'server-closed' }),
  );
  const start: Progress<Send, Extra> = {
    effects: [],
    awaiting: rules.awaiting ?? 0,
    inputEnded: false,
    finished: false,
  };
  return merge(input$, server$).pipe(
    scan(
      (progress: Progress<Send, Extra>, happening: Happening<Reply>) =>
        advance(rules, progress, happening),
      start,
    ),
    takeWhile((progress) => !progress.finished && progress.failure === undefined, true),
    concatMap(({ failure, effects }) =>
      failure === undefined
        ? effects
        : concat(
            effects,
            throwError(() => new ClientError(failure)),
          ),
    ),
  );
}
