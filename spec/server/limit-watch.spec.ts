import { expect } from 'chai';
import { LimitActions, LimitWatch } from '../../src/server/limit-watch';
import { NO_LIMITS } from '../../src/server/limits';

/** Actions that record what the watch did, and resolve `next` with the next one. */
function recorder() {
  const done: string[] = [];
  const state = { reading: true };
  let wake: (() => void) | undefined;
  const record = (what: string) => {
    done.push(what);
    wake?.();
  };
  const actions: LimitActions = {
    get readingNow() {
      return state.reading;
    },
    pause: (ms) => record(`pause ${ms}`),
    slowedDown: (message) => record(`slowed: ${message}`),
    idle: (message) => record(`idle: ${message}`),
    unfinishedFrame: (message) => record(`frame: ${message}`),
  };
  const next = () => new Promise<void>((resolve) => (wake = resolve));
  return { done, actions, next, state };
}

describe('LimitWatch', () => {
  it('pauses a sender over its rate each time, and says so the first time only', () => {
    const { done, actions } = recorder();
    let now = 0;
    const watch = new LimitWatch(
      { ...NO_LIMITS, maxMsgsPerSec: 100, msgsBurst: 10 },
      actions,
      () => now,
    );
    watch.onMessages(10);
    expect(done).to.deep.equal([]);
    watch.onMessages(5);
    now = 50;
    watch.onMessages(2);
    expect(done).to.deep.equal([
      'pause 50',
      'slowed: more than 100 messages a second: reading paused for 50 ms, and again whenever it is over',
      'pause 20',
    ]);
    watch.unsubscribe();
  });

  it('closes an idle connection once nothing came for the timeout, counting from the last bytes', async () => {
    const { done, actions, next } = recorder();
    const watch = new LimitWatch({ ...NO_LIMITS, idleTimeoutMs: 30 }, actions, Date.now);
    watch.start();
    const startedAt = Date.now();
    setTimeout(() => watch.onChunk(false), 20);
    await next();
    expect(done).to.deep.equal(['idle: nothing received for 0 s']);
    // The bytes at 20 ms put it off: 30 ms after them.
    expect(Date.now() - startedAt).to.be.at.least(45);
    watch.unsubscribe();
  });

  it('closes a connection whose frame stays unfinished, and gives a new frame its own time', async () => {
    const { done, actions, next } = recorder();
    const watch = new LimitWatch({ ...NO_LIMITS, frameTimeoutMs: 30 }, actions, Date.now);
    const startedAt = Date.now();
    watch.onChunk(true);
    // A frame ends and the next one begins within the first one's time.
    setTimeout(() => {
      watch.onMessages(1);
      watch.onChunk(true);
    }, 10);
    await next();
    expect(done).to.deep.equal(['frame: a frame was begun and not finished within 0.03 s']);
    expect(Date.now() - startedAt).to.be.at.least(55);
    watch.unsubscribe();
  });

  it('does not blame a frame unfinished while the connection is not read (over its rate, or backpressure)', async () => {
    const { done, actions, next, state } = recorder();
    const watch = new LimitWatch({ ...NO_LIMITS, frameTimeoutMs: 20 }, actions, Date.now);
    const startedAt = Date.now();
    state.reading = false;
    watch.onChunk(true);
    setTimeout(() => (state.reading = true), 30);
    await next();
    expect(done).to.deep.equal(['frame: a frame was begun and not finished within 0.02 s']);
    // Not at 20 ms, while unread: 20 ms after the check that found it read again.
    expect(Date.now() - startedAt).to.be.at.least(40);
    watch.unsubscribe();
  });

  it('arms no timer without limits, and forgets a frame once it is finished', () => {
    const { done, actions } = recorder();
    const watch = new LimitWatch({ ...NO_LIMITS, frameTimeoutMs: 5 }, actions, Date.now);
    watch.onChunk(true);
    watch.onChunk(false);
    watch.onMessages(1000);
    watch.unsubscribe();
    expect(done).to.deep.equal([]);
  });
});
