import { EventEmitter, once } from 'node:events';
import { connect, Socket } from 'node:net';
import { chatMessageCodec, serverFrameCodec } from '../../src/protocol/chat-codec';
import { Decoder } from '../../src/protocol/codec';
import { lineCodec } from '../../src/protocol/line-codec';
import { ChatMessage, ServerFrame } from '../../src/protocol/messages';
import { PlainFrame, plainFrame } from './frames';

/** A client over real TCP for end-to-end tests: it keeps everything it receives, decoded. */
class TestPeer<T> {
  readonly frames: T[] = [];
  readonly closed: Promise<void>;
  private readonly arrived = new EventEmitter();

  protected constructor(
    readonly socket: Socket,
    decoder: Decoder<T>,
  ) {
    socket.on('data', (chunk) => {
      this.frames.push(...decoder.push(chunk));
      this.arrived.emit('frame');
    });
    socket.on('error', () => undefined);
    this.closed = once(socket, 'close').then(() => undefined);
  }

  protected static async open(port: number): Promise<Socket> {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    return socket;
  }

  /** The first `count` frames, once they have all arrived. */
  async received(count: number): Promise<T[]> {
    while (this.frames.length < count) {
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

/** A raw protobuf chat client. */
export class TestClient extends TestPeer<PlainFrame> {
  /** The secret of the handshake, once it has arrived. */
  secret: Uint8Array | undefined;

  static async connect(port: number): Promise<TestClient> {
    return new TestClient(await TestPeer.open(port), serverFrameCodec(1 << 24).decoder());
  }

  /** Connects and waits for the handshake: the client's id. */
  static async join(port: number): Promise<{ client: TestClient; id: string }> {
    const client = await TestClient.connect(port);
    const [first] = await client.received(1);
    if (!first || !('handshake' in first))
      throw new Error(`no handshake: ${JSON.stringify(first)}`);
    return { client, id: first.handshake };
  }

  private constructor(socket: Socket, decoder: Decoder<ServerFrame>) {
    const plain = (frames: ServerFrame[]) =>
      frames.map((frame) => {
        if ('handshake' in frame) this.secret ??= frame.handshake.secret ?? undefined;
        return plainFrame(frame);
      });
    super(socket, {
      push: (chunk) => plain(decoder.push(chunk)),
      end: () => plain(decoder.end()),
      get partial() {
        return decoder.partial;
      },
    });
  }

  /** The first frame after the first `after` that matches, once it has arrived. */
  async frameWhere(predicate: (frame: PlainFrame) => boolean, after = 0): Promise<PlainFrame> {
    for (let count = after + 1; ; count++) {
      const frame = (await this.received(count))[count - 1] as PlainFrame;
      if (predicate(frame)) return frame;
    }
  }

  send(...messages: ChatMessage[]): void {
    this.socket.write(chatMessageCodec().encode(messages));
  }
}

/** A raw text client: lines out, lines in. */
export class LineClient extends TestPeer<string> {
  static async connect(port: number): Promise<LineClient> {
    return new LineClient(await TestPeer.open(port), lineCodec().decoder());
  }

  send(...lines: string[]): void {
    this.socket.write(lines.map((line) => `${line}\n`).join(''));
  }
}
