import { expect } from 'chai';
import { LoadClientEvent } from '../../src/loadtest/load-client';
import { foldLoadEvent, initialTally } from '../../src/loadtest/load-tally';

function fold(clients: number, events: LoadClientEvent[]) {
  return events.reduce(
    (tally, event, index) => foldLoadEvent(clients, tally, event, index + 1),
    initialTally(0),
  );
}

describe('foldLoadEvent', () => {
  it('starts the run only when every client has its handshake or failed without one', () => {
    const ready: LoadClientEvent = { type: 'ready' };
    // Of three clients, one gets its handshake and then fails, and one more is ready: the third
    // is still connecting, so the run must not start yet.
    const early = fold(3, [ready, { type: 'failed', reason: 'lost', greeted: true }, ready]);
    expect(early.allReadyAt).to.equal(undefined);
    const settled = foldLoadEvent(
      3,
      early,
      { type: 'failed', reason: 'refused', greeted: false },
      9,
    );
    expect(settled.allReadyAt).to.equal(9);
    expect(settled).to.include({ ready: 2, unreachable: 1, finished: 2, errors: 2 });
  });

  it('counts echoes and deliveries and keeps only the first errors', () => {
    const mismatches = Array.from({ length: 12 }, (_, i) => `mismatch ${i}`);
    const tally = fold(1, [
      { type: 'ready' },
      { type: 'checked', echoes: 40, deliveries: 30, mismatches },
    ]);
    expect(tally).to.include({ echoed: 40, delivered: 30, errors: 12, lastMessageAt: 2 });
    expect(tally.firstErrors).to.have.length(10);
  });

  it('hears a read with nothing to count, without calling it the last message', () => {
    const tally = fold(1, [
      { type: 'ready' },
      { type: 'checked', echoes: 0, deliveries: 0, mismatches: [] },
    ]);
    expect(tally).to.include({ lastHeardAt: 2, lastMessageAt: 0 });
  });
});
