import { once } from 'node:events';
import { connect, Socket } from 'node:net';
import { chatMessageCodec, serverFrameCodec } from '../../src/protocol/chat-codec';
import { ChatMessage } from '../../src/protocol/messages';
import { PlainFrame, plainFrame } from './frames';
import { EventEmitter } from 'node:events';

/** A raw protobuf client over real TCP, for end-to-end tests: it keeps every frame it receives. */
export class TestClient {
  readonly frames: PlainFrame[] = [];
  readonly closed: Promise<void>;
  private readonly arrived = new EventEmitter();

  private constructor(readonly socket: Socket) {
    const decoder = serverFrameCodec(1 << 24).decoder();
    socket.on('data', (chunk) => {
      this.frames.push(...decoder.push(chunk).map(plainFrame));
      this.arrived.emit('frame');
    });
    socket.on('error', () => undefined);
    this.closed = once(socket, 'close').then(() => undefined);
  }

  static async connect(port: number): Promise<TestClient> {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    return new TestClient(socket);
  }

  /** Connects and waits for the handshake: the client's id. */
  static async join(port: number): Promise<{ client: TestClient; id: string }> {
    const client = await TestClient.connect(port);
    const [first] = await client.received(1);
    if (!first || !('handshake' in first))
      throw new Error(`no handshake: ${JSON.stringify(first)}`);
    return { client, id: first.handshake };
  }

  send(...messages: ChatMessage[]): void {
    this.socket.write(chatMessageCodec().encode(messages));
  }

  /** The first `count` frames, once they have all arrived. */
  async received(count: number): Promise<PlainFrame[]> {
    while (this.frames.length < count) {
      if (this.socket.destroyed && this.socket.readableEnded) break;
      await Promise.race([once(this.arrived, 'frame'), this.closed]);
      if (this.socket.closed && this.frames.length < count) {
        throw new Error(`connection closed after ${this.frames.length} of ${count} frames`);
      }
    }
    return this.frames.slice(0, count);
  }

  /** Ends our side and waits for the server to close. */
  async end(): Promise<void> {
    this.socket.end();
    await this.closed;
  }

  /** Resets the connection (RST), as a crashed client would. */
  reset(): void {
    this.socket.resetAndDestroy();
  }
}
