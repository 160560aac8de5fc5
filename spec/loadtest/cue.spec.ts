import { expect } from 'chai';
import { Cue } from '../../src/loadtest/cue';

describe('Cue', () => {
  it('tells every waiting stream once when it fires, then completes each', () => {
    const cue = new Cue();
    const heard: string[] = [];
    for (const name of ['a', 'b']) {
      cue.fired$.subscribe({
        next: () => heard.push(name),
        complete: () => heard.push(`${name} done`),
      });
    }
    expect(heard).to.deep.equal([]);
    cue.fire();
    cue.fire();
    expect(heard).to.deep.equal(['a', 'a done', 'b', 'b done']);
  });

  it('tells a stream that comes after it has fired at once', () => {
    const cue = new Cue();
    cue.fire();
    let heard = false;
    cue.fired$.subscribe(() => (heard = true));
    expect(heard).to.equal(true);
  });

  it('forgets a stream that stops waiting', () => {
    const cue = new Cue();
    let heard = false;
    cue.fired$.subscribe(() => (heard = true)).unsubscribe();
    cue.fire();
    expect(heard).to.equal(false);
  });
});
