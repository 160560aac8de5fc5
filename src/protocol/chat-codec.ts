import { Writer } from 'protobufjs/minimal';
import { Codec, Decoder } from './codec';
import { FrameDecoder } from './frame-decoder';
import * as generated from './generated/chat';
import { ChatMessage, Handshake, ServerFrame } from './messages';
import { ProtocolError } from './protocol-error';
import { ScannedChatMessage, scanChatMessage, SplicedChatMessage } from './spliced-chat-message';

/** The default and the usual limit on a frame's size. */
export const DEFAULT_MAX_FRAME_BYTES = 65536;

interface MessageType<Message> {
  decode(frame: Uint8Array): Message;
  encode(message: Message, writer: Writer): Writer;
}

/** Decodes one whole frame as exactly one message: a truncated or malformed field is an error. */
function decodeFrame<Message>(type: MessageType<Message>, name: string, frame: Buffer): Message {
  try {
    return type.decode(frame);
  } catch (error) {
    // protobufjs reports a field that runs past the end of the frame as a RangeError.
    const reason =
      error instanceof RangeError
        ? 'a field runs past the end of the frame'
        : error instanceof Error
          ? error.message
          : String(error);
    throw new ProtocolError('INVALID_MESSAGE', `not a valid ${name}: ${reason}`);
  }
}

type ReadFrame<T> = (frame: Buffer, index: number) => T;

/** Decodes each frame of one stream; the n-th frame by `read(frame, n)`. */
class MessageDecoder<T> implements Decoder<T> {
  private readonly frames: FrameDecoder;
  private count = 0;

  constructor(
    maxFrameBytes: number,
    private readonly read: ReadFrame<T>,
  ) {
    this.frames = new FrameDecoder(maxFrameBytes);
  }

  push(chunk: Uint8Array): T[] {
    return this.decode(this.frames.push(chunk));
  }

  end(): T[] {
    return this.decode(this.frames.end());
  }

  get partial(): boolean {
    return this.frames.partial;
  }

  private decode(frames: Buffer[]): T[] {
    return frames.map((frame) => this.read(frame, this.count++));
  }
}

/** A codec of length-prefixed protobuf frames. */
function delimitedCodec<T>(
  maxFrameBytes: number,
  read: ReadFrame<T>,
  write: (value: T, writer: Writer) => void,
): Codec<T> {
  return {
    decoder: () => new MessageDecoder(maxFrameBytes, read),
    encode(values) {
      const writer = Writer.create();
      for (const value of values) {
        write(value, writer.fork());
        writer.ldelim();
      }
      return writer.finish();
    },
  };
}

/** Frames as raw bytes, undecoded: for a peer that only needs to compare them. */
export function frameCodec(maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Codec<Buffer> {
  return delimitedCodec(
    maxFrameBytes,
    (frame) => frame,
    (frame, writer) => writer.raw(frame),
  );
}

const chatMessages: MessageType<ChatMessage> = generated.ChatMessage;
const handshakes: MessageType<Handshake> = generated.Handshake;

/** ChatMessages, every frame: what clients send, and what the no-handshake echo server returns. */
export function chatMessageCodec(maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Codec<ChatMessage> {
  return delimitedCodec(
    maxFrameBytes,
    (frame) => decodeFrame(chatMessages, 'ChatMessage', frame),
    (message, writer) => chatMessages.encode(message, writer),
  );
}

/** A scanned message's fields are getters, which protobufjs does not see: copied out. */
function withOwnFields(message: ChatMessage): ChatMessage {
  if (!(message instanceof ScannedChatMessage)) return message;
  const { from, to, msg } = message;
  return { from, to, msg };
}

/**
 * ChatMessages as the chat server reads them: a frame of only `from`, `to` and `msg` is scanned,
 * not decoded, and keeps its bytes for its echo and its delivery (`SplicedChatMessage`); any
 * other is decoded.
 */
export function scanningChatMessageCodec(
  maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
): Codec<ChatMessage> {
  return delimitedCodec(
    maxFrameBytes,
    (frame) => scanChatMessage(frame) ?? decodeFrame(chatMessages, 'ChatMessage', frame),
    (message, writer) => chatMessages.encode(withOwnFields(message), writer),
  );
}

function isSpliced(frame: ServerFrame): boolean {
  return 'chat' in frame && frame.chat instanceof SplicedChatMessage;
}

/** Messages whose bytes are copied from the messages they pass on: one buffer, written in one pass. */
function encodeSpliced(frames: readonly ServerFrame[]): Uint8Array {
  const messages = frames.map((frame) => (frame as { chat: SplicedChatMessage }).chat);
  let length = 0;
  for (const message of messages) length += message.framedLength;
  const bytes = Buffer.allocUnsafe(length);
  let offset = 0;
  for (const message of messages) offset = message.writeFramed(bytes, offset);
  return bytes;
}

/** What the chat server sends: a Handshake first, then ChatMessages. */
export function serverFrameCodec(maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Codec<ServerFrame> {
  const codec = delimitedCodec<ServerFrame>(
    maxFrameBytes,
    (frame, index) =>
      index === 0
        ? { handshake: decodeFrame(handshakes, 'Handshake', frame) }
        : { chat: decodeFrame(chatMessages, 'ChatMessage', frame) },
    (frame, writer) => {
      if ('handshake' in frame) handshakes.encode(frame.handshake, writer);
      else if (frame.chat instanceof SplicedChatMessage) writer.raw(frame.chat.bytes());
      else chatMessages.encode(frame.chat, writer);
    },
  );
  return {
    decoder: () => codec.decoder(),
    encode: (frames) => (frames.every(isSpliced) ? encodeSpliced(frames) : codec.encode(frames)),
  };
}
