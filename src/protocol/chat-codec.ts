import { Writer } from 'protobufjs/minimal';
import { Codec } from './codec';
import { FrameDecoder } from './frame-decoder';
import * as generated from './generated/chat';
import { ChatMessage, Handshake, ServerFrame } from './messages';
import { ProtocolError } from './protocol-error';

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

/** A codec of length-prefixed protobuf frames; the n-th frame of a stream decodes by `read(frame, n)`. */
function delimitedCodec<T>(
  maxFrameBytes: number,
  read: (frame: Buffer, index: number) => T,
  write: (value: T, writer: Writer) => void,
): Codec<T> {
  return {
    decoder() {
      const frames = new FrameDecoder(maxFrameBytes);
      let count = 0;
      return {
        push: (chunk) => frames.push(chunk).map((frame) => read(frame, count++)),
        end: () => frames.end().map((frame) => read(frame, count++)),
      };
    },
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
    (frame, writer) => writer.bytes(frame),
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

/** What the chat server sends: a Handshake first, then ChatMessages. */
export function serverFrameCodec(maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Codec<ServerFrame> {
  return delimitedCodec<ServerFrame>(
    maxFrameBytes,
    (frame, index) =>
      index === 0
        ? { handshake: decodeFrame(handshakes, 'Handshake', frame) }
        : { chat: decodeFrame(chatMessages, 'ChatMessage', frame) },
    (frame, writer) => {
      if ('handshake' in frame) handshakes.encode(frame.handshake, writer);
      else chatMessages.encode(frame.chat, writer);
    },
  );
}
