import { expect } from 'chai';
import { of, Subject } from 'rxjs';
import { Answer, followedBy, stopped } from '../../src/server/service';

type Plain = Answer<string, { readonly note: string }>;

describe('followedBy', () => {
  it('puts the replies and effects of both in order', () => {
    const first: Plain = { replies: ['a'], effects: [{ become: 2n }] };
    const second: Plain = { replies: ['b'], effects: [{ warn: 'x' }], close: 'done' };
    expect(followedBy(first, () => second)).to.deep.equal({
      replies: ['a', 'b'],
      effects: [{ become: 2n }, { warn: 'x' }],
      close: 'done',
    });
  });

  it('asks for the second only once the work of the first has answered, and not after a close', () => {
    const work = new Subject<Plain>();
    let asked = 0;
    const combined = followedBy({ replies: ['a'], then: work }, () => {
      asked += 1;
      return { replies: ['c'] };
    });
    expect(combined.replies).to.deep.equal(['a']);
    expect(asked).to.equal(0);
    let next: Plain | undefined;
    combined.then?.subscribe((answer) => (next = answer));
    work.next({ replies: ['b'] });
    expect(next).to.deep.equal({ replies: ['b', 'c'] });
    expect(asked).to.equal(1);
    expect(followedBy(stopped('kicked'), () => ({ replies: ['never'] }))).to.deep.equal({
      replies: [],
      close: 'kicked by the operator',
    });
  });

  it('is either answer when the other says and does nothing', () => {
    const nothing: Plain = { replies: [] };
    const some: Plain = { replies: ['a'], then: of({ replies: [] }) };
    expect(followedBy(nothing, () => some)).to.equal(some);
    const plain: Plain = { replies: ['b'] };
    expect(followedBy(plain, () => nothing)).to.equal(plain);
  });
});
