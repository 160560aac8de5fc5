import Long from 'long';
import { Writer } from 'protobufjs/minimal';
import * as generated from '../protocol/generated/chat';
import { Credentials } from './client-plan';

/** The frames a direct-message client sends besides its messages: hello and ack. */
function controlFrame(message: generated.ChatMessage.$Properties): Buffer {
  const writer = Writer.create();
  generated.ChatMessage.encode(message, writer.fork()).ldelim();
  return Buffer.from(writer.finish());
}

/** Hello as a new user: the user of this connection's handshake. */
export function helloFrame(): Buffer {
  return controlFrame({ hello: {} });
}

/** Hello that resumes an earlier user. */
export function resumeFrame({ id, secret }: Credentials): Buffer {
  return controlFrame({ hello: { id, secret } });
}

/** Acknowledges every delivery up to and including `upTo`. */
export function ackFrame(upTo: bigint): Buffer {
  return controlFrame({ ack: Long.fromBigInt(upTo, true) });
}
