import { expect } from 'chai';
import { chat, hello, PlainFrame } from '../support/frames';
import { startChatServer } from '../support/programs';
import { eachTestInTemporaryDirectory } from '../support/temporary-directory';
import { TestClient } from '../support/tcp-client';

type Chat = Extract<PlainFrame, { from: string }>;

const isChat = (frame: PlainFrame): frame is Chat => 'from' in frame;
const noticeOf = (frame: PlainFrame) => (isChat(frame) ? frame.notice : undefined);

async function joinWithHello(port: number) {
  const { client, id } = await TestClient.join(port);
  client.send(hello());
  await client.frameWhere((frame) => noticeOf(frame) === 'WELCOME NEW_USER');
  return { client, id };
}

describe('limits of the running server', function () {
  this.timeout(20_000);
  eachTestInTemporaryDirectory('chat-limits-');

  it('refuses a connection past --max-clients-per-ip, to that address only, and counts it', async () => {
    const server = await startChatServer(['--max-clients-per-ip', '2']);
    const first = await TestClient.join(server.port);
    await TestClient.join(server.port);
    const third = await TestClient.connect(server.port);
    expect(await third.frameWhere(() => true)).to.deep.equal({ refused: true });
    await third.closed;
    await server.line(
      'stderr',
      /^refused a connection from 127\.0\.0\.1:\d+: too many connections from 127\.0\.0\.1 \(2 at most\)$/,
    );
    // Once one leaves, there is room again.
    await first.client.end();
    await server.line('stderr', new RegExp(`^user ${first.id} disconnected`));
    const again = await TestClient.join(server.port);
    expect(again.id).to.match(/^\d+$/);
    expect(await server.answer('stats', /^limits: /)).to.equal(
      'limits: 1 connection refused per address, 0 slowed down, 0 closed idle, 0 closed with a frame unfinished',
    );
  });

  it('slows a sender past --max-msgs-per-sec down by reading less, loses nothing, and says so', async () => {
    const server = await startChatServer(['--max-msgs-per-sec', '200', '--msgs-burst', '50']);
    const { client } = await joinWithHello(server.port);
    const started = Date.now();
    const count = 250;
    // Five batches of 50, each once the one before is echoed: the first takes the burst, each
    // of the others waits for the server to read again, a quarter of a second later.
    for (let batch = 0; batch < count / 50; batch++) {
      const texts = Array.from({ length: 50 }, (_, i) => `m${batch * 50 + i}`);
      client.send(...texts.map((text) => chat(0, 0, text)));
      await client.frameWhere((frame) => isChat(frame) && frame.msg === texts.at(-1));
    }
    expect(Date.now() - started).to.be.greaterThan(600);
    const echoes = client.frames.filter((frame) => isChat(frame) && /^m\d+$/.test(frame.msg));
    expect(echoes.map((frame) => (frame as Chat).msg)).to.deep.equal(
      Array.from({ length: count }, (_, i) => `m${i}`),
    );
    expect(
      client.frames.filter((frame) => noticeOf(frame) === 'ERROR RATE_LIMITED'),
    ).to.have.length(1);
    await server.line(
      'stderr',
      /^limit for user \d+: more than 200 messages a second: reading paused for \d+ ms/,
    );
  });

  it('closes a connection that sends nothing for --idle-timeout, telling a client that said hello', async () => {
    const server = await startChatServer(['--idle-timeout', '1']);
    const { client, id } = await joinWithHello(server.port);
    expect(await client.frameWhere((frame) => noticeOf(frame) !== undefined, 2)).to.include({
      notice: 'CLOSING IDLE',
    });
    await client.closed;
    await server.line('stderr', new RegExp(`^user ${id} disconnected: idle for too long$`));
    expect(await server.answer('stats', /^limits: /)).to.match(/ 1 closed idle,/);
  });

  it('closes a connection whose frame is not finished within --frame-timeout (slowloris), and no other', async () => {
    const server = await startChatServer(['--frame-timeout', '1']);
    const slow = await TestClient.join(server.port);
    const honest = await TestClient.join(server.port);
    // A length prefix of 10 bytes, and 3 of them.
    slow.client.socket.write(Buffer.from([10, 0x0a, 0x01, 0x41]));
    await slow.client.closed;
    await server.line(
      'stderr',
      new RegExp(`^user ${slow.id} disconnected: a frame was begun and not finished within 1 s$`),
    );
    honest.client.send(chat(0, 0, 'still here'));
    expect(await honest.client.frameWhere((frame) => isChat(frame))).to.include({
      msg: 'still here',
    });
    expect(await server.answer('stats', /^limits: /)).to.match(
      / 1 closed with a frame unfinished$/,
    );
  });
});
