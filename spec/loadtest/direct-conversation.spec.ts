import { expect } from 'chai';
import Long from 'long';
import { Credentials, DirectPlan } from '../../src/loadtest/client-plan';
import { DirectConversation } from '../../src/loadtest/direct-conversation';
import { LatencyHistogram } from '../../src/loadtest/latency-histogram';
import * as generated from '../../src/protocol/generated/chat';
import { ReceiptStatus } from '../../src/protocol/messages';
import { body, delivery, errorNotice, framesIn, receipted, welcome } from './server-frames';

const secret = Buffer.from('0123456789abcdef');

function handshake(id: number): generated.Handshake {
  return generated.Handshake.decode(
    generated.Handshake.encode({ id: Long.fromInt(id), secret }).finish(),
  );
}

const size = 4;
const text = (seq: number) => `...${seq}`;

/** User 5, who sends 3 messages to user 6 and is delivered 2 from it. */
function pairedUser(receipts = [ReceiptStatus.DELIVERED, ReceiptStatus.STORED]) {
  const greeted: Credentials[] = [];
  const plan: DirectPlan = {
    kind: 'direct',
    greeting: { kind: 'new-user' },
    sends: { plan: { messages: 3, window: 2, size }, to: () => Long.fromInt(6), receipts },
    receives: { count: 2, from: () => Long.fromInt(6), size },
    greeted: (credentials) => greeted.push(credentials),
  };
  const latencies = new LatencyHistogram();
  const conversation = new DirectConversation(plan, latencies, () => 0);
  return { conversation, greeted, latencies };
}

/** User 5, greeted, welcomed and started: it has sent its first two messages. */
function startedUser(receipts?: generated.Receipt.Status[]) {
  const user = pairedUser(receipts);
  user.conversation.greet(handshake(5));
  user.conversation.read([body(welcome(5, 'NEW_USER'))], 0);
  user.conversation.start();
  return user;
}

const mismatchesOf = (step: { checked?: { mismatches: readonly string[] } }) =>
  step.checked?.mismatches ?? [];

describe('DirectConversation', () => {
  it('says hello after the handshake and is ready once welcomed as a new user', () => {
    const { conversation, greeted } = pairedUser();
    const greeting = conversation.greet(handshake(5));
    const [hello] = framesIn(greeting.write);
    expect(hello?.hello).to.be.an('object');
    expect(hello?.hello?.id?.isZero() ?? true).to.equal(true);
    expect(greeting.ready).to.equal(undefined);
    expect(greeted.map(({ id }) => id.toNumber())).to.deep.equal([5]);
    expect(conversation.read([body(welcome(5, 'NEW_USER'))], 0)).to.deep.include({
      ready: true,
      checked: { echoes: 0, deliveries: 0, mismatches: [] },
    });
  });

  it('sends to its partner, checks every echo and delivery, acknowledges each read, and is done when all are in', () => {
    const { conversation, latencies } = pairedUser();
    conversation.greet(handshake(5));
    conversation.read([body(welcome(5, 'NEW_USER'))], 0);
    const sent = framesIn(conversation.start().write);
    expect(sent.map(({ from, to, msg }) => [from.toNumber(), to.toNumber(), msg])).to.deep.equal([
      [5, 6, text(0)],
      [5, 6, text(1)],
    ]);

    const first = conversation.read(
      [body(receipted(5, 6, text(0), 'DELIVERED')), body(delivery(6, 5, text(0), 1))],
      1,
    );
    expect(first.checked).to.deep.equal({ echoes: 1, deliveries: 1, mismatches: [] });
    const [ack, third] = framesIn(first.write);
    expect(ack?.ack?.toNumber()).to.equal(1);
    expect(third?.msg).to.equal(text(2));
    expect(conversation.done).to.equal(false);

    const rest = conversation.read(
      [
        body(receipted(5, 6, text(1), 'STORED')),
        body(receipted(5, 6, text(2), 'DELIVERED')),
        body(delivery(6, 5, text(1), 2)),
      ],
      2,
    );
    expect(rest.checked).to.deep.equal({ echoes: 2, deliveries: 1, mismatches: [] });
    expect(framesIn(rest.write).map((frame) => frame.ack?.toNumber())).to.deep.equal([2]);
    expect(conversation.done).to.equal(true);
    expect(latencies.count).to.equal(3);
  });

  it('finds fault with a refused message, an echo without its receipt or with the wrong text', () => {
    const { conversation } = startedUser();
    const refused = receipted(5, 6, text(0), 'REFUSED');
    const first = conversation.read(
      [
        body({
          ...refused,
          receipt: { status: ReceiptStatus.REFUSED, reason: 'no user has that id' },
        }),
        body({ from: Long.fromInt(5), to: Long.fromInt(6), msg: text(1) }),
      ],
      0,
    );
    const second = conversation.read([body(receipted(5, 6, 'oops', 'DELIVERED'))], 0);
    expect([...mismatchesOf(first), ...mismatchesOf(second)]).to.deep.equal([
      'echo 0 is {"from":"5","to":"6","msg":"...0","receipt":"REFUSED: no user has that id"}, not "...0" with a receipt DELIVERED or STORED',
      'echo 1 is {"from":"5","to":"6","msg":"...1"}, not "...1" with a receipt DELIVERED or STORED',
      'echo 2 is {"from":"5","to":"6","msg":"oops","receipt":"DELIVERED"}, not "...2" with a receipt DELIVERED or STORED',
    ]);
  });

  it('takes only the receipts it was told to: STORED alone for a recipient that is away', () => {
    const { conversation } = startedUser([ReceiptStatus.STORED]);
    const step = conversation.read([body(receipted(5, 6, text(0), 'DELIVERED'))], 0);
    expect(mismatchesOf(step)).to.deep.equal([
      'echo 0 is {"from":"5","to":"6","msg":"...0","receipt":"DELIVERED"}, not "...0" with a receipt STORED',
    ]);
  });

  it('drops a redelivered duplicate without acknowledging it again', () => {
    const { conversation } = startedUser();
    conversation.read([body(delivery(6, 5, text(0), 1))], 0);
    const again = conversation.read([body(delivery(6, 5, text(0), 1, true))], 0);
    expect(again.checked).to.deep.equal({ echoes: 0, deliveries: 0, mismatches: [] });
    expect(framesIn(again.write)).to.deep.equal([]);
  });

  it('reports what the server says in a notice, an echo it never asked for and a frame it cannot read', () => {
    const { conversation } = startedUser();
    const step = conversation.read(
      [
        body(errorNotice('UNKNOWN_DELIVERY', 'delivery 9 was never sent to you')),
        body(receipted(5, 6, text(0), 'DELIVERED')),
        body(receipted(5, 6, text(1), 'DELIVERED')),
        body(receipted(5, 6, text(2), 'DELIVERED')),
        Buffer.from([0x0a, 0x05]),
      ],
      0,
    );
    expect(mismatchesOf(step)).to.have.length(3);
    expect(mismatchesOf(step)[0]).to.equal(
      'the server said ERROR UNKNOWN_DELIVERY: delivery 9 was never sent to you',
    );
    expect(mismatchesOf(step)[1]).to.match(/^an echo for a message never sent: \{"from":"5"/);
    expect(mismatchesOf(step)[2]).to.match(/^an undecodable frame \(/);
  });

  describe('resuming an earlier user', () => {
    function resumingUser(pending = 2) {
      const plan: DirectPlan = {
        kind: 'direct',
        greeting: { kind: 'resume', as: () => ({ id: Long.fromInt(3), secret }), pending },
        receives: { count: pending, from: () => Long.fromInt(9), size },
      };
      return new DirectConversation(plan, new LatencyHistogram(), () => 0);
    }

    it('is ready at its handshake, resumes at the start, and is done once every kept message is in', () => {
      const conversation = resumingUser();
      expect(conversation.greet(handshake(12))).to.deep.equal({ ready: true });
      const [hello] = framesIn(conversation.start().write);
      expect(hello?.hello?.id?.toString()).to.equal('3');
      expect(Buffer.from(hello?.hello?.secret ?? [])).to.deep.equal(secret);
      const step = conversation.read(
        [
          body(welcome(3, 'RESUMED', 2)),
          body(delivery(9, 3, text(0), 1)),
          body(delivery(9, 3, text(1), 2)),
        ],
        0,
      );
      expect(step.checked).to.deep.equal({ echoes: 0, deliveries: 2, mismatches: [] });
      expect(framesIn(step.write).map((frame) => frame.ack?.toNumber())).to.deep.equal([2]);
      expect(conversation.done).to.equal(true);
    });

    it('finds fault with a welcome that says fewer were kept, and checks those that were', () => {
      const conversation = resumingUser(5);
      conversation.greet(handshake(12));
      conversation.start();
      const step = conversation.read(
        [
          body(welcome(3, 'RESUMED', 2)),
          body(delivery(9, 3, text(0), 1)),
          body(delivery(9, 3, text(1), 2)),
        ],
        0,
      );
      expect(mismatchesOf(step)).to.deep.equal([
        'the server said WELCOME RESUMED: , user 3 with 2 pending; expected RESUMED, user 3 with 5 pending',
      ]);
      expect(conversation.done).to.equal(true);
    });
  });
});
