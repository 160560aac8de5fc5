import { expect } from 'chai';
import Long from 'long';
import { DeliveryCheck } from '../../src/loadtest/delivery-check';
import { LoadMessages } from '../../src/loadtest/load-messages';

describe('DeliveryCheck', () => {
  const sender = new LoadMessages(Long.fromInt(7), Long.fromInt(8), 4);
  const message = (seq: number) => ({ from: sender.from, to: sender.to, msg: sender.text(seq) });

  it("takes the sender's messages in order, each under a new delivery number, until all are in", () => {
    const check = new DeliveryCheck(sender, 3);
    expect([1n, 2n, 3n].map((number, seq) => check.take(number, message(seq)))).to.deep.equal([
      undefined,
      undefined,
      undefined,
    ]);
    expect(check).to.include({ received: 3, complete: true });
  });

  it('drops a redelivery of a number already seen, as not an error', () => {
    const check = new DeliveryCheck(sender, 2);
    check.take(1n, message(0));
    expect(check.take(1n, message(0))).to.equal(undefined);
    expect(check.received).to.equal(1);
    expect(check.take(2n, message(1))).to.equal(undefined);
    expect(check.complete).to.equal(true);
  });

  it('says what is wrong with a message out of order, from someone else, or missing', () => {
    const check = new DeliveryCheck(sender, 3);
    expect(check.take(1n, message(1))).to.equal(
      'delivery 1 is {"from":"7","to":"8","msg":"...1"}, not message 0 from 7: "...0"',
    );
    expect(check.take(2n, { ...message(1), from: Long.fromInt(9) })).to.match(
      /^delivery 2 is \{"from":"9",.*, not message 1 from 7/,
    );
    expect(check.take(3n, { ...message(2), msg: '' })).to.match(/^delivery 3 is .*"msg":""/);
    expect(check.take(4n, message(3))).to.equal('delivery 4 is one more than the 3 expected');
    expect(check.received).to.equal(3);
  });

  it('acknowledges the highest delivery seen, once', () => {
    const check = new DeliveryCheck(sender, 3);
    expect(check.ackDue()).to.equal(undefined);
    check.take(1n, message(0));
    check.take(2n, message(1));
    expect(check.ackDue()).to.equal(2n);
    expect(check.ackDue()).to.equal(undefined);
    check.take(2n, message(1));
    expect(check.ackDue()).to.equal(undefined);
  });
});
