import Long from 'long';
import { parseArgs } from 'node:util';
import { parseInt64 } from '../protocol/messages';

/** A command line that cannot be run: reported in one line, with the usage, and exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Flag<T> {
  readonly takesValue: boolean;
  readonly fallback: T;
  parse(text: string, name: string): T;
}

function valueFlag<T>(fallback: T, parse: (text: string, name: string) => T): Flag<T> {
  return { takesValue: true, fallback, parse };
}

function wholeNumber(text: string, name: string, min: number, max: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not "${text}"`);
  }
  return value;
}

export const flag = {
  host: (fallback = '127.0.0.1') =>
    valueFlag(fallback, (text, name) => {
      if (text.trim() === '') throw new UsageError(`--${name} must be a host name or address`);
      return text;
    }),
  port: (fallback = 8080) => valueFlag(fallback, (text, name) => wholeNumber(text, name, 0, 65535)),
  count: (fallback: number, min = 1, max = 1_000_000_000) =>
    valueFlag(fallback, (text, name) => wholeNumber(text, name, min, max)),
  int64: (fallback: Long) =>
    valueFlag(fallback, (text, name) => {
      const value = parseInt64(text);
      if (value === undefined) {
        throw new UsageError(`--${name} must be a whole number within int64, not "${text}"`);
      }
      return value;
    }),
  text: (fallback: string, what: string) =>
    valueFlag(fallback, (text, name) => {
      if (text === '') throw new UsageError(`--${name} must be ${what}`);
      return text;
    }),
  choice: <const Choices extends readonly string[]>(fallback: Choices[number], choices: Choices) =>
    valueFlag<Choices[number]>(fallback, (text, name) => {
      if (!choices.includes(text)) {
        throw new UsageError(`--${name} must be one of ${choices.join(', ')}, not "${text}"`);
      }
      return text;
    }),
  /** Where a Redis listens, redis://HOST:PORT; by default, none. */
  redisUrl: () =>
    valueFlag<string | undefined>(undefined, (text, name) => {
      const url = URL.canParse(text) ? new URL(text) : undefined;
      if (url?.protocol !== 'redis:' || url.hostname === '') {
        throw new UsageError(`--${name} must be redis://HOST:PORT, not "${text}"`);
      }
      return text;
    }),
  /** A name in logs and keys: letters, digits, and . _ - : only. */
  name: (fallback: string) =>
    valueFlag(fallback, (text, name) => {
      if (!/^[\w.:-]{1,64}$/.test(text)) {
        throw new UsageError(
          `--${name} must be 1 to 64 letters, digits, '.', '_', '-' or ':', not "${text}"`,
        );
      }
      return text;
    }),
  switch: (): Flag<boolean> => ({ takesValue: false, fallback: false, parse: () => true }),
};

/** The flags of every program that listens, or connects, on TCP. */
export const connectionFlags = { host: flag.host(), port: flag.port() };

/** The flags of the protobuf clients: where to connect, and whom to write to. */
export const chatClientFlags = { ...connectionFlags, to: flag.int64(Long.ZERO) };

export type FlagValues<Spec> = {
  readonly [Name in keyof Spec]: Spec[Name] extends Flag<infer T> ? T : never;
};

/** Reads `--name value` flags (and `--name=value`); anything else is a UsageError. */
export function parseFlags<Spec extends Record<string, Flag<unknown>>>(
  argv: readonly string[],
  spec: Spec,
): FlagValues<Spec> {
  const options = Object.fromEntries(
    Object.entries(spec).map(([name, { takesValue }]) => [
      name,
      { type: takesValue ? ('string' as const) : ('boolean' as const) },
    ]),
  );
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UsageError(
      error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error),
    );
  }
  return Object.fromEntries(
    Object.entries(spec).map(([name, definition]) => {
      const given = values[name];
      const value =
        given === undefined ? definition.fallback : definition.parse(String(given), name);
      return [name, value];
    }),
  ) as FlagValues<Spec>;
}
