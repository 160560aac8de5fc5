import { concat, concatMap, map, merge, Observable, of, scan, takeWhile, throwError } from 'rxjs';
import { ClientError } from './client-error';

export type ClientEffect<Send> =
  | { readonly type: 'send'; readonly message: Send }
  | { readonly type: 'print'; readonly text: string }
  | { readonly type: 'status'; readonly text: string };

export interface ConversationRules<Send, Reply> {
  /** The message a line of input becomes. */
  message(line: string): Send;
  /** Whether a reply answers one of our messages, as opposed to news from elsewhere. */
  answers(reply: Reply): boolean;
  render(reply: Reply): string;
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

interface Progress<Send> {
  readonly effects: readonly ClientEffect<Send>[];
  readonly awaiting: number;
  readonly inputEnded: boolean;
  readonly finished: boolean;
  readonly failure?: string;
}

function advance<Send, Reply>(
  rules: ConversationRules<Send, Reply>,
  progress: Progress<Send>,
  happening: Happening<Reply>,
): Progress<Send> {
  const next = (changes: Partial<Progress<Send>>): Progress<Send> => {
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
    case 'reply':
      return next({
        effects: [{ type: 'print', text: rules.render(happening.reply) }],
        awaiting: progress.awaiting - (rules.answers(happening.reply) ? 1 : 0),
      });
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
export function converse<Send, Reply>(
  line$: Observable<string>,
  reply$: Observable<Reply>,
  rules: ConversationRules<Send, Reply>,
): Observable<ClientEffect<Send>> {
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
  const start: Progress<Send> = { effects: [], awaiting: 0, inputEnded: false, finished: false };
  return merge(input$, server$).pipe(
    scan(
      (progress: Progress<Send>, happening: Happening<Reply>) =>
        advance(rules, progress, happening),
      start,
    ),
    takeWhile((progress) => !progress.finished && progress.failure === undefined, true),
    concatMap(({ failure, effects }) =>
      failure === undefined ? effects : throwError(() => new ClientError(failure)),
    ),
  );
}
