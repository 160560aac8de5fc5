import { expect } from 'chai';
import { echoUntilEnd } from '../../src/server/echo-services';

describe('echoUntilEnd', () => {
  it('has no greeting, and echoes every line of a batch', () => {
    expect(echoUntilEnd.greeting).to.deep.equal([]);
    expect(echoUntilEnd.answer(['hi', 'there'])).to.deep.equal({
      replies: ['hi', 'there'],
      last: false,
    });
  });

  it('echoes the lines before `end`, and ends the conversation without echoing it or what follows', () => {
    expect(echoUntilEnd.answer(['x', 'end', 'after'])).to.deep.equal({
      replies: ['x'],
      last: true,
    });
  });
});
