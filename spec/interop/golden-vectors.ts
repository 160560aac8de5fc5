import Long from 'long';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ChatMessage, Handshake, parseInt64 } from '../../src/protocol/messages';

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
    case 'ChatMessage': {
      const message = {
        from: fields.int64('from'),
        to: fields.int64('to'),
        msg: fields.string('msg'),
      };
      fields.expectNoOthers();
      return { name, protocBytes, type, message };
    }
    case 'Handshake': {
      const message = { id: fields.int64('id'), error: fields.bool('error') };
      fields.expectNoOthers();
      return { name, protocBytes, type, message };
    }
    default:
      throw new Error(`${name}.txtpb: no message type ${type} in proto/chat.proto`);
  }
}

/**
 * Just the text format the vectors use: a `# proto-message: <Type>` line (the convention
 * regenerate.sh also reads), other `#` comments, and one `field: value` a line with an integer,
 * `true`/`false` or a "string" without escapes as its value. Anything else is an error, not a guess.
 */
function readTextFormat(source: string, text: string): { type: string; fields: TextFields } {
  let type: string | undefined;
  const fields = new Map<string, string>();
  for (const [index, line] of text.split(/\r?\n/).entries()) {
    const typeLine = /^# proto-message: (\w+)$/.exec(line);
    const fieldLine = /^(\w+):\s*(.*)$/.exec(line);
    if (typeLine) {
      type = typeLine[1];
    } else if (fieldLine) {
      const [, field = '', value = ''] = fieldLine;
      if (fields.has(field)) throw new Error(`${source}: ${field} is set twice`);
      fields.set(field, value);
    } else if (line !== '' && !line.startsWith('#')) {
      throw new Error(`${source}:${index + 1}: not a line this reader knows: ${line}`);
    }
  }
  if (type === undefined) throw new Error(`${source}: no "# proto-message: <Type>" line`);
  return { type, fields: new TextFields(source, fields) };
}

/** The fields of one message in text format, each with its proto3 default when absent. */
class TextFields {
  private readonly unread: Map<string, string>;

  constructor(
    private readonly source: string,
    fields: ReadonlyMap<string, string>,
  ) {
    this.unread = new Map(fields);
  }

  int64(field: string): Long {
    const value = this.take(field);
    if (value === undefined) return Long.ZERO;
    return parseInt64(value) ?? this.fail(`${field}: ${value} is not an int64`);
  }

  bool(field: string): boolean {
    const value = this.take(field);
    if (value === undefined || value === 'false') return false;
    if (value === 'true') return true;
    return this.fail(`${field}: ${value} is not true or false`);
  }

  string(field: string): string {
    const value = this.take(field);
    if (value === undefined) return '';
    const text = /^"([^"\\]*)"$/.exec(value)?.[1];
    return text ?? this.fail(`${field}: ${value} is not a "string" without escapes`);
  }

  /** Fails on a field the message type does not have. */
  expectNoOthers(): void {
    const others = [...this.unread.keys()];
    if (others.length > 0) this.fail(`no field ${others.join(', ')} in this message type`);
  }

  private take(field: string): string | undefined {
    const value = this.unread.get(field);
    this.unread.delete(field);
    return value;
  }

  private fail(reason: string): never {
    throw new Error(`${this.source}: ${reason}`);
  }
}
