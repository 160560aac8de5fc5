import { expect } from 'chai';
import { chatSession } from '../../src/server/chat-service';
import { chat, plainFrame } from '../support/frames';

describe('chatSession', () => {
  it('greets with a handshake that carries the user id', () => {
    expect(chatSession(3n).greeting.map(plainFrame)).to.deep.equal([{ handshake: '3' }]);
  });

  it('answers every message of a batch, in order, with `from` set to the user', () => {
    const answer = chatSession(3n).answer([
      chat(99, 5, 'one'),
      chat(0, -1, 'two'),
      chat(-7, '9223372036854775807', ''),
    ]);
    expect(answer.last).to.equal(false);
    expect(answer.replies.map(plainFrame)).to.deep.equal([
      { from: '3', to: '5', msg: 'one' },
      { from: '3', to: '-1', msg: 'two' },
      { from: '3', to: '9223372036854775807', msg: '' },
    ]);
  });
});
