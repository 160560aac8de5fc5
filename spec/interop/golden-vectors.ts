import Long from 'long';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  ChatMessage,
  Handshake,
  Hello,
  Notice,
  parseInt64,
  Receipt,
} from '../../src/protocol/messages';

/**
 * The golden vectors: each `<name>.txtpb`, a message in protobuf text format, and the `<name>.bin`
 * that `protoc --encode` made of it (spec/golden/regenerate.sh). The .txtpb is the only place the
 * expected values are written down.
 */
const GOLDEN_DIR = join(__dirname, '..', 'golden');

export type GoldenVector = { readonly name: string; readonly protocBytes: Buffer } & (
  | { readonly type: 'ChatMessage'; readonly message: ChatMessage }
  | { readonly type: 'Handshake'; readonly message: Handshake }
);

/**
 * The enums of proto/chat.proto, written out again here rather than taken from the generated code,
 * so that a number the code under test got wrong shows: each name as protoc reads it, its number.
 */
export const RECEIPT_STATUS = { STATUS_UNSPECIFIED: 0, DELIVERED: 1, STORED: 2, REFUSED: 3 };
export const RECEIPT_REFUSAL = {
  REFUSAL_UNSPECIFIED: 0,
  UNKNOWN_RECIPIENT: 1,
  MAILBOX_FULL: 2,
  STORE_FAILED: 3,
};
export const NOTICE_KIND = { KIND_UNSPECIFIED: 0, WELCOME: 1, ERROR: 2, CLOSING: 3 };
export const NOTICE_CODE = {
  CODE_UNSPECIFIED: 0,
  RESUMED: 1,
  NEW_USER: 2,
  UNKNOWN_USER: 3,
  WRONG_SECRET: 4,
  HELLO_NOT_FIRST: 5,
  UNKNOWN_DELIVERY: 6,
  ALREADY_ACKNOWLEDGED: 7,
  NOT_A_CHAT_MESSAGE: 8,
  TAKEN_OVER: 9,
  KICKED: 10,
  SHUTTING_DOWN: 11,
  STORE_FAILED: 12,
};

export type EnumTable = Readonly<Record<string, number>>;

/** The names of the golden files that end in `extension`, without it. */
export function goldenNames(extension: '.txtpb' | '.bin'): string[] {
  return readdirSync(GOLDEN_DIR)
    .filter((file) => file.endsWith(extension))
    .map((file) => basename(file, extension));
}

export function loadGoldenVectors(): GoldenVector[] {
  return goldenNames('.txtpb').map((name) =>
    goldenVector(
      name,
      readFileSync(join(GOLDEN_DIR, `${name}.txtpb`), 'utf8'),
      readFileSync(join(GOLDEN_DIR, `${name}.bin`)),
    ),
  );
}

function goldenVector(name: string, text: string, protocBytes: Buffer): GoldenVector {
  const { type, fields } = readTextFormat(`${name}.txtpb`, text);
  switch (type) {
    case 'ChatMessage':
      return { name, protocBytes, type, message: fields.read(readChatMessage) };
    case 'Handshake':
      return { name, protocBytes, type, message: fields.read(readHandshake) };
    default:
      throw new Error(`${name}.txtpb: no message type ${type} in proto/chat.proto`);
  }
}

/**
 * Every field of each message type, those absent from the text at their defaults; a message field
 * absent from the text is null, and present (even empty, as `hello {}`) is a message. An enum is
 * read as its number in the tables above, not the generated code's, which is what is checked.
 */
function readChatMessage(fields: TextFields): ChatMessage {
  return {
    from: fields.int64('from'),
    to: fields.int64('to'),
    msg: fields.string('msg'),
    delivery: fields.uint64('delivery'),
    redelivered: fields.bool('redelivered'),
    receipt: fields.message('receipt', readReceipt),
    hello: fields.message('hello', readHello),
    ack: fields.uint64('ack'),
    notice: fields.message('notice', readNotice),
  };
}

function readHandshake(fields: TextFields): Handshake {
  return {
    id: fields.int64('id'),
    error: fields.bool('error'),
    secret: fields.bytes('secret'),
    reason: fields.string('reason'),
  };
}

/* eslint-disable @typescript-eslint/no-unsafe-enum-assignment -- numbers from the tables above, on purpose */
function readReceipt(fields: TextFields): Receipt {
  return {
    status: fields.enumValue('status', RECEIPT_STATUS),
    reason: fields.string('reason'),
    refusal: fields.enumValue('refusal', RECEIPT_REFUSAL),
  };
}

function readHello(fields: TextFields): Hello {
  return { id: fields.int64('id'), secret: fields.bytes('secret') };
}

function readNotice(fields: TextFields): Notice {
  return {
    kind: fields.enumValue('kind', NOTICE_KIND),
    text: fields.string('text'),
    code: fields.enumValue('code', NOTICE_CODE),
    id: fields.int64('id'),
    pending: fields.uint64('pending'),
  };
}
/* eslint-enable @typescript-eslint/no-unsafe-enum-assignment */

/** A message in text format: each field's value as written, or the block of a message field. */
type TextBlock = Map<string, string | TextBlock>;

/**
 * Just the text format the vectors use: a `# proto-message: <Type>` line (the convention
 * regenerate.sh also reads), other `#` comments, one `field: value` a line with an integer, an
 * enum's name, `true`/`false` or a "string" as its value, and a message field as `field {` up to
 * a line `}`, or `field {}` when empty. Anything else is an error, not a guess.
 */
function readTextFormat(source: string, text: string): { type: string; fields: TextFields } {
  let type: string | undefined;
  const root: TextBlock = new Map();
  const outer: TextBlock[] = [];
  let block = root;
  const set = (line: number, field: string, value: string | TextBlock) => {
    if (block.has(field)) throw new Error(`${source}:${line}: ${field} is set twice`);
    block.set(field, value);
  };
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const typeLine = /^# proto-message: (\w+)$/.exec(raw);
    const line = raw.trim();
    const fieldLine = /^(\w+):\s*(.*)$/.exec(line);
    const blockLine = /^(\w+)\s*\{(\s*\})?$/.exec(line);
    if (typeLine) {
      type = typeLine[1];
    } else if (fieldLine) {
      const [, field = '', value = ''] = fieldLine;
      set(index + 1, field, value);
    } else if (blockLine) {
      const [, field = '', closed] = blockLine;
      const inner: TextBlock = new Map();
      set(index + 1, field, inner);
      if (closed === undefined) {
        outer.push(block);
        block = inner;
      }
    } else if (line === '}') {
      block = outer.pop() ?? fail(`${source}:${index + 1}: a } that closes nothing`);
    } else if (line !== '' && !line.startsWith('#')) {
      throw new Error(`${source}:${index + 1}: not a line this reader knows: ${raw}`);
    }
  }
  if (outer.length > 0) throw new Error(`${source}: a message field is not closed with }`);
  if (type === undefined) throw new Error(`${source}: no "# proto-message: <Type>" line`);
  return { type, fields: new TextFields(source, root) };
}

function fail(reason: string): never {
  throw new Error(reason);
}

const UINT64_MAX = 2n ** 64n - 1n;

/** The fields of one message in text format, each with its proto3 default when absent. */
class TextFields {
  private readonly unread: TextBlock;

  constructor(
    private readonly source: string,
    fields: TextBlock,
  ) {
    this.unread = new Map(fields);
  }

  /** The message `read` makes of these fields; it fails on a field the message type does not have. */
  read<T>(read: (fields: TextFields) => T): T {
    const message = read(this);
    const others = [...this.unread.keys()];
    if (others.length > 0) this.fail(`no field ${others.join(', ')} in this message type`);
    return message;
  }

  int64(field: string): Long {
    const value = this.scalar(field);
    if (value === undefined) return Long.ZERO;
    return parseInt64(value) ?? this.fail(`${field}: ${value} is not an int64`);
  }

  uint64(field: string): Long {
    const value = this.scalar(field);
    if (value === undefined) return Long.UZERO;
    const number = /^\d{1,20}$/.test(value) ? BigInt(value) : undefined;
    if (number === undefined || number > UINT64_MAX) {
      return this.fail(`${field}: ${value} is not a uint64`);
    }
    return Long.fromBigInt(number, true);
  }

  bool(field: string): boolean {
    const value = this.scalar(field);
    if (value === undefined || value === 'false') return false;
    if (value === 'true') return true;
    return this.fail(`${field}: ${value} is not true or false`);
  }

  string(field: string): string {
    const value = this.scalar(field);
    if (value === undefined) return '';
    const text = /^"([^"\\]*)"$/.exec(value)?.[1];
    return text ?? this.fail(`${field}: ${value} is not a "string" without escapes`);
  }

  /** A "string" of printable ASCII characters and `\xHH` escapes, one byte each. */
  bytes(field: string): Buffer {
    const value = this.scalar(field);
    if (value === undefined) return Buffer.alloc(0);
    const text = /^"((?:\\x[0-9a-fA-F]{2}|[ !#-[\]-~])*)"$/.exec(value)?.[1];
    if (text === undefined) {
      return this.fail(`${field}: ${value} is not a "string" of ASCII and \\xHH escapes`);
    }
    const bytes = [...text.matchAll(/\\x([0-9a-fA-F]{2})|(.)/g)].map(([, hex, character]) =>
      hex === undefined ? (character ?? '').charCodeAt(0) : parseInt(hex, 16),
    );
    return Buffer.from(bytes);
  }

  /** An enum field, written by the name of its value: its number in `values`. */
  enumValue(field: string, values: EnumTable): number {
    const value = this.scalar(field);
    const number = value === undefined ? 0 : values[value];
    if (number === undefined || (value !== undefined && !Object.hasOwn(values, value))) {
      return this.fail(`${field}: ${value ?? ''} is not one of ${Object.keys(values).join(', ')}`);
    }
    return number;
  }

  /** A message field: null when absent, else the message `read` makes of its block. */
  message<T>(field: string, read: (fields: TextFields) => T): T | null {
    const value = this.take(field);
    if (value === undefined) return null;
    if (typeof value === 'string') return this.fail(`${field} is a message: write ${field} { … }`);
    return new TextFields(`${this.source}: ${field}`, value).read(read);
  }

  private scalar(field: string): string | undefined {
    const value = this.take(field);
    if (typeof value === 'object') return this.fail(`${field} is not a message field`);
    return value;
  }

  private take(field: string): string | TextBlock | undefined {
    const value = this.unread.get(field);
    this.unread.delete(field);
    return value;
  }

  private fail(reason: string): never {
    throw new Error(`${this.source}: ${reason}`);
  }
}
