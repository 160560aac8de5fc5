import { expect } from 'chai';
import { echoUntilEnd } from '../../src/server/echo-services';

describe('echoUntilEnd', () => {
  it('has no greeting, and echoes every line of a batch', () => {
    expect(echoUntilEnd.greet()).to.deep.equal({ replies: [] });
    expect(echoUntilEnd.answer(['hi', 'there'])).to.deep.equal({ replies: ['hi', 'there'] });
  });

  it('echoes the lines before `end`, and ends the conversation without echoing it or what follows', () => {
    expect(echoUntilEnd.answer(['x', 'end', 'after'])).to.deep.equal({
      replies: ['x'],
      close: 'client sent "end"',
    });
  });

  it('passes on announcements, and ends the conversation when stopped', () => {
    expect(echoUntilEnd.hear({ announce: 'hi all' })).to.deep.equal({
      replies: ['[operator] hi all'],
    });
    expect(echoUntilEnd.hear({ stop: 'shutdown' })).to.deep.equal({
      replies: [],
      close: 'server shutting down',
    });
  });
});
