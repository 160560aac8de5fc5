import { clearLine, createInterface, cursorTo } from 'node:readline';
import { fromEvent, map, Observable, takeUntil } from 'rxjs';

export interface OperatorConsole {
  /** The operator's lines; completes when the input ends, after which there is no console. */
  readonly line$: Observable<string>;
  /** Ctrl-C typed at the prompt (a terminal in raw mode sends no signal). */
  readonly interrupt$: Observable<void>;
  /** Prints an answer on stdout. */
  answer(text: string): void;
  /** Prints a log line on stderr. */
  log(text: string): void;
  close(): void;
}

/**
 * The operator's console on this process's terminal. At a terminal it shows a prompt, and a line
 * printed while the operator types appears above the prompt, which is redrawn with what was
 * typed so far. Without a terminal (piped, or /dev/null) it reads lines and prints plainly.
 */
export function openOperatorConsole(
  input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WriteStream = process.stdout,
  errors: NodeJS.WriteStream = process.stderr,
): OperatorConsole {
  const interactive = input.isTTY && output.isTTY;
  const readline = createInterface({
    input,
    ...(interactive ? { output, prompt: '> ' } : {}),
    terminal: interactive,
  });
  const closed$ = fromEvent(readline, 'close');
  let open = true;
  let closedByUs = false;
  readline.once('close', () => {
    open = false;
    if (!interactive) return;
    clearLine(output, 0);
    cursorTo(output, 0);
    if (!closedByUs) errors.write('the console is closed; the server keeps serving\n');
  });

  const print = (stream: NodeJS.WriteStream, text: string) => {
    if (!interactive || !open) {
      stream.write(`${text}\n`);
      return;
    }
    clearLine(output, 0);
    cursorTo(output, 0);
    stream.write(`${text}\n`);
    readline.prompt(true);
  };
  if (interactive) {
    readline.prompt();
    readline.on('line', () => readline.prompt());
  }

  return {
    line$: fromEvent(readline, 'line', (line: string) => line).pipe(takeUntil(closed$)),
    interrupt$: fromEvent(readline, 'SIGINT').pipe(map(() => undefined)),
    answer: (text) => print(output, text),
    log: (text) => print(errors, text),
    close: () => {
      closedByUs = true;
      readline.close();
    },
  };
}
