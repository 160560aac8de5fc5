import { expect } from 'chai';
import fc from 'fast-check';
import {
  acknowledge,
  DeliveryWindow,
  MAX_IN_FLIGHT,
  onDeliveries,
  onDelivery,
  openWindow,
  sentUpTo,
  toFetch,
} from '../../src/chat/delivery-window';

function window(acknowledged: bigint, sent: bigint, known: bigint): DeliveryWindow {
  return { acknowledged, sent, known };
}

const PAGE = 500;

describe('delivery window', () => {
  describe('openWindow', () => {
    it('starts with nothing sent beyond what is acknowledged, and the store’s last as known', () => {
      expect(openWindow(0n, 0n)).to.deep.equal(window(0n, 0n, 0n));
      expect(openWindow(3n, 7n)).to.deep.equal(window(3n, 3n, 7n));
    });

    it('never knows of less than what is acknowledged', () => {
      expect(openWindow(5n, 2n)).to.deep.equal(window(5n, 5n, 5n));
    });
  });

  describe('onDeliveries', () => {
    it('sends the part of a run that comes next, skipping what was sent already', () => {
      expect(onDeliveries(window(0n, 4n, 4n), 3n, 4n, true)).to.deep.equal({
        first: 5n,
        last: 6n,
        fetch: false,
        window: window(0n, 6n, 6n),
      });
    });

    it('sends as much of a run as there is room for, and knows of the rest', () => {
      const almost = window(0n, MAX_IN_FLIGHT - 2n, MAX_IN_FLIGHT - 2n);
      const decision = onDeliveries(almost, MAX_IN_FLIGHT - 1n, 5n, true);
      expect(decision).to.deep.include({ first: MAX_IN_FLIGHT - 1n, last: MAX_IN_FLIGHT });
      expect(decision.window).to.deep.equal(window(0n, MAX_IN_FLIGHT, MAX_IN_FLIGHT + 3n));
      expect(onDeliveries(almost, MAX_IN_FLIGHT - 1n, 5n, false).last).to.equal(MAX_IN_FLIGHT + 3n);
    });

    it('sends none of a run behind a gap, and reads the store instead', () => {
      expect(onDeliveries(window(0n, 4n, 4n), 7n, 2n, true)).to.deep.equal({
        first: 7n,
        last: 6n,
        fetch: true,
        window: window(0n, 4n, 8n),
      });
    });

    it('decides a run as it decides its deliveries one by one', () => {
      const numbers = fc.bigInt({ min: 0n, max: 3000n });
      fc.assert(
        fc.property(
          numbers,
          numbers,
          numbers,
          fc.bigInt({ min: 1n, max: 40n }),
          fc.boolean(),
          (a, b, c, count, limited) => {
            const [acknowledged, sent, known] = [a, b, c].sort((x, y) =>
              x < y ? -1 : x > y ? 1 : 0,
            ) as [bigint, bigint, bigint];
            const start = window(acknowledged, sent, known);
            const first = sent + 1n - count / 2n;
            let oneByOne = start;
            const sentOneByOne: bigint[] = [];
            for (let delivery = first; delivery < first + count; delivery++) {
              const { action, window: after } = onDelivery(oneByOne, delivery, limited);
              oneByOne = after;
              if (action === 'send') sentOneByOne.push(delivery);
              if (action === 'fetch') break;
            }
            const run = onDeliveries(start, first, count, limited);
            const sentAtOnce: bigint[] = [];
            for (let delivery = run.first; delivery <= run.last; delivery++)
              sentAtOnce.push(delivery);
            expect(sentAtOnce).to.deep.equal(sentOneByOne);
            expect(run.window.sent).to.equal(oneByOne.sent);
          },
        ),
      );
    });
  });

  describe('onDelivery', () => {
    for (const limited of [true, false]) {
      describe(limited ? 'for a client that acknowledges (limited)' : 'for a legacy client', () => {
        it('sends the next delivery when there is room', () => {
          expect(onDelivery(window(2n, 4n, 4n), 5n, limited)).to.deep.equal({
            action: 'send',
            window: window(2n, 5n, 5n),
          });
        });

        it('sends the next delivery and keeps a higher known', () => {
          // Sending 5 of the known 9 is fine as long as 5 is the next: the rest are fetched later.
          expect(onDelivery(window(0n, 4n, 9n), 5n, limited)).to.deep.equal({
            action: 'send',
            window: window(0n, 5n, 9n),
          });
        });

        it('skips a delivery that was sent already, leaving the window as it was', () => {
          const before = window(1n, 6n, 6n);
          for (const delivery of [1n, 2n, 6n]) {
            const { action, window: after } = onDelivery(before, delivery, limited);
            expect(action).to.equal('skip');
            expect(after).to.equal(before);
          }
        });

        it('fetches when the delivery is behind others not sent yet, and knows of it', () => {
          expect(onDelivery(window(0n, 4n, 4n), 7n, limited)).to.deep.equal({
            action: 'fetch',
            window: window(0n, 4n, 7n),
          });
          // Known already (it was there when the window opened): known stays.
          expect(onDelivery(window(0n, 4n, 9n), 7n, limited)).to.deep.equal({
            action: 'fetch',
            window: window(0n, 4n, 9n),
          });
        });
      });
    }

    it('gives a limited client MAX_IN_FLIGHT unacknowledged deliveries and no more', () => {
      const almost = window(10n, 10n + MAX_IN_FLIGHT - 1n, 10n + MAX_IN_FLIGHT - 1n);
      const last = onDelivery(almost, 10n + MAX_IN_FLIGHT, true);
      expect(last).to.deep.equal({
        action: 'send',
        window: window(10n, 10n + MAX_IN_FLIGHT, 10n + MAX_IN_FLIGHT),
      });
      const full = last.window;
      // One more is not sent, but known: it is read from the store once there is room.
      expect(onDelivery(full, full.sent + 1n, true)).to.deep.equal({
        action: 'skip',
        window: { ...full, known: full.sent + 1n },
      });
      expect(onDelivery(full, full.sent + 5n, true)).to.deep.equal({
        action: 'skip',
        window: { ...full, known: full.sent + 5n },
      });
      // An acknowledgement makes room again.
      const acknowledged = acknowledge({ ...full, known: full.sent + 1n }, 11n);
      expect(acknowledged).to.have.property('window');
      if (!('window' in acknowledged)) return;
      expect(toFetch(acknowledged.window, true, PAGE)).to.equal(1);
    });

    it('puts no limit on a legacy client, however much it has unacknowledged', () => {
      const far = window(0n, 10n * MAX_IN_FLIGHT, 10n * MAX_IN_FLIGHT);
      expect(onDelivery(far, far.sent + 1n, false).action).to.equal('send');
      expect(onDelivery(far, far.sent + 1n, true)).to.deep.equal({
        action: 'skip',
        window: { ...far, known: far.sent + 1n },
      });
    });
  });

  describe('toFetch', () => {
    it('reads nothing when nothing is known beyond what was sent', () => {
      expect(toFetch(window(0n, 0n, 0n), true, PAGE)).to.equal(0);
      expect(toFetch(window(3n, 8n, 8n), false, PAGE)).to.equal(0);
    });

    it('reads what waits, at most a page', () => {
      expect(toFetch(window(0n, 0n, 3n), true, PAGE)).to.equal(3);
      expect(toFetch(window(0n, 0n, 3n), false, PAGE)).to.equal(3);
      expect(toFetch(window(0n, 0n, 2000n), true, PAGE)).to.equal(PAGE);
      expect(toFetch(window(0n, 0n, 2000n), false, PAGE)).to.equal(PAGE);
      expect(toFetch(window(0n, 0n, 2000n), false, 0)).to.equal(0);
    });

    it('reads no more than a limited client has room for', () => {
      const inFlight = MAX_IN_FLIGHT - 10n;
      expect(toFetch(window(5n, 5n + inFlight, 5n + inFlight + 100n), true, PAGE)).to.equal(10);
      expect(toFetch(window(5n, 5n + inFlight, 5n + inFlight + 4n), true, PAGE)).to.equal(4);
      expect(toFetch(window(0n, MAX_IN_FLIGHT, MAX_IN_FLIGHT + 100n), true, PAGE)).to.equal(0);
    });

    it('reads a page for a legacy client, whatever it has unacknowledged', () => {
      expect(toFetch(window(0n, MAX_IN_FLIGHT, MAX_IN_FLIGHT + 2000n), false, PAGE)).to.equal(PAGE);
      expect(
        toFetch(window(0n, 5n * MAX_IN_FLIGHT, 5n * MAX_IN_FLIGHT + 7n), false, PAGE),
      ).to.equal(7);
    });

    it('is exactly min(room, waiting, page), for any window', () => {
      const windows = fc
        .tuple(
          fc.bigInt({ min: 0n, max: 2n ** 62n }),
          fc.bigInt({ min: 0n, max: 2n * MAX_IN_FLIGHT }),
          fc.bigInt({ min: 0n, max: 3000n }),
        )
        .map(([acknowledged, inFlight, waiting]) =>
          window(acknowledged, acknowledged + inFlight, acknowledged + inFlight + waiting),
        );
      fc.assert(
        fc.property(
          windows,
          fc.boolean(),
          fc.integer({ min: 0, max: 2000 }),
          (w, limited, page) => {
            const waiting = w.known - w.sent;
            const room = limited ? MAX_IN_FLIGHT - (w.sent - w.acknowledged) : BigInt(page);
            const expected = [room < 0n ? 0n : room, waiting, BigInt(page)].reduce((a, b) =>
              a < b ? a : b,
            );
            expect(toFetch(w, limited, page)).to.equal(Number(expected));
          },
        ),
      );
    });
  });

  describe('sentUpTo', () => {
    it('moves what was sent forward, and what is known with it', () => {
      expect(sentUpTo(window(0n, 2n, 9n), 5n)).to.deep.equal(window(0n, 5n, 9n));
      expect(sentUpTo(window(0n, 2n, 3n), 5n)).to.deep.equal(window(0n, 5n, 5n));
    });

    it('never moves it back', () => {
      const before = window(1n, 6n, 9n);
      expect(sentUpTo(before, 6n)).to.equal(before);
      expect(sentUpTo(before, 2n)).to.equal(before);
    });
  });

  describe('acknowledge', () => {
    const sent = window(3n, 8n, 10n);

    it('acknowledges up to a delivery that was sent and not acknowledged', () => {
      expect(acknowledge(sent, 4n)).to.deep.equal({ window: window(4n, 8n, 10n) });
      expect(acknowledge(sent, 8n)).to.deep.equal({ window: window(8n, 8n, 10n) });
    });

    it('refuses what was acknowledged already', () => {
      for (const upTo of [0n, 1n, 3n]) {
        expect(acknowledge(sent, upTo)).to.deep.equal({ error: 'already-acknowledged' });
      }
    });

    it('refuses a delivery never sent on this connection, even one the store has', () => {
      for (const upTo of [9n, 10n, 11n, 2n ** 64n - 1n]) {
        expect(acknowledge(sent, upTo)).to.deep.equal({ error: 'unknown-delivery' });
      }
    });

    it('refuses any acknowledgement when nothing was sent', () => {
      expect(acknowledge(window(0n, 0n, 5n), 1n)).to.deep.equal({ error: 'unknown-delivery' });
      expect(acknowledge(window(0n, 0n, 5n), 0n)).to.deep.equal({ error: 'already-acknowledged' });
    });
  });

  describe('a recipient over time, against a store', () => {
    type Step =
      | { readonly kind: 'store' }
      | { readonly kind: 'signal'; readonly pick: number }
      | { readonly kind: 'fetch'; readonly page: number }
      | { readonly kind: 'ack'; readonly pick: number };

    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.constant({ kind: 'store' as const }),
      fc.record({ kind: fc.constant('signal' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('fetch' as const), page: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ kind: fc.constant('ack' as const), pick: fc.nat() }),
    );

    /**
     * A recipient as the chat session drives it: the store numbers deliveries; each stored one is
     * signalled to the recipient, in any order; the recipient reads pages from the store when
     * toFetch says so, and acknowledges some of what it was sent.
     */
    function simulate(limited: boolean, start: DeliveryWindow, steps: readonly Step[]) {
      let w = start;
      let stored = start.known;
      const first = start.sent + 1n;
      const signals: bigint[] = [];
      const sent: bigint[] = [];
      const check = () => {
        expect(sent).to.deep.equal(
          Array.from({ length: sent.length }, (_, index) => first + BigInt(index)),
        );
        expect(w.sent).to.equal(start.sent + BigInt(sent.length));
        expect(w.acknowledged <= w.sent && w.sent <= w.known && w.known <= stored).to.equal(true);
        if (limited) expect(w.sent - w.acknowledged <= MAX_IN_FLIGHT).to.equal(true);
      };
      const fetch = (page: number) => {
        const count = toFetch(w, limited, page);
        if (count === 0) return false;
        const page_: bigint[] = [];
        for (let d = w.sent + 1n; d <= stored && page_.length < count; d++) page_.push(d);
        sent.push(...page_);
        w = sentUpTo(w, page_.at(-1) ?? w.sent);
        if (page_.length < count) w = { ...w, known: w.sent };
        return true;
      };
      for (const each of steps) {
        if (each.kind === 'store') signals.push(++stored);
        else if (each.kind === 'signal' && signals.length > 0) {
          const [delivery] = signals.splice(each.pick % signals.length, 1) as [bigint];
          const heard = onDelivery(w, delivery, limited);
          w = heard.window;
          if (heard.action === 'send') sent.push(delivery);
          if (heard.action === 'fetch') fetch(PAGE);
        } else if (each.kind === 'fetch') fetch(each.page);
        else if (each.kind === 'ack' && w.sent > w.acknowledged) {
          const upTo = w.acknowledged + 1n + (BigInt(each.pick) % (w.sent - w.acknowledged));
          const result = acknowledge(w, upTo);
          expect(result).to.have.property('window');
          if ('window' in result) w = result.window;
        }
        check();
      }
      // Every signal arrives, everything sent is acknowledged, and what is due is read.
      for (const delivery of signals.splice(0)) {
        const heard = onDelivery(w, delivery, limited);
        w = heard.window;
        if (heard.action === 'send') sent.push(delivery);
        check();
      }
      do {
        const result = acknowledge(w, w.sent);
        if ('window' in result) w = result.window;
      } while (fetch(PAGE));
      check();
      expect(w.sent).to.equal(stored);
    }

    /** A window of a connection that was sent everything up to `sent`, all of it still stored. */
    const openWindowAt = (acknowledged: bigint, sent: bigint) => window(acknowledged, sent, sent);

    for (const limited of [true, false]) {
      it(`sends every delivery once, in order${limited ? ', within MAX_IN_FLIGHT' : ''}, and in the end all of them`, () => {
        // From nothing, from far on, and a few short of a full window (or past it, for legacy).
        const base = fc.constantFrom(0n, 2n ** 62n);
        const inFlight = fc.constantFrom(
          0n,
          MAX_IN_FLIGHT - 3n,
          ...(limited ? [] : [5n * MAX_IN_FLIGHT]),
        );
        const starts = fc
          .tuple(base, inFlight)
          .map(([acknowledged, count]) => openWindowAt(acknowledged, acknowledged + count));
        const steps = fc.array(step, { maxLength: 60 });
        fc.assert(
          fc.property(starts, steps, (start, list) => simulate(limited, start, list)),
          { numRuns: 300 },
        );
      });
    }

    it('holds back a limited client at MAX_IN_FLIGHT until it acknowledges', () => {
      // A window of MAX_IN_FLIGHT - 2 in flight: three more stored, the third is held back.
      const inFlight = MAX_IN_FLIGHT - 2n;
      let w: DeliveryWindow = window(0n, inFlight, inFlight);
      const actions: string[] = [];
      for (const delivery of [inFlight + 1n, inFlight + 2n, inFlight + 3n]) {
        const heard = onDelivery(w, delivery, true);
        actions.push(heard.action);
        w = heard.window;
      }
      expect(actions).to.deep.equal(['send', 'send', 'skip']);
      expect(w).to.deep.equal(window(0n, MAX_IN_FLIGHT, MAX_IN_FLIGHT + 1n));
      expect(toFetch(w, true, PAGE)).to.equal(0);
      const result = acknowledge(w, 1n);
      if (!('window' in result)) throw new Error('acknowledgement refused');
      expect(toFetch(result.window, true, PAGE)).to.equal(1);
    });
  });
});
