import { expect } from 'chai';
import { describeNetworkError } from '../../src/transport/network-errors';

const failure = (message: string, code?: string) => Object.assign(new Error(message), { code });

describe('describeNetworkError', () => {
  it('names the usual errors in a short phrase', () => {
    expect(
      describeNetworkError(failure('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED')),
    ).to.equal('connection refused');
    expect(describeNetworkError(failure('listen EADDRINUSE', 'EADDRINUSE'))).to.equal(
      'address already in use',
    );
  });

  it('gives other errors their first line, with the code when the message lacks it', () => {
    expect(describeNetworkError(failure('write EPIPE', 'EPIPE'))).to.equal('write EPIPE');
    expect(describeNetworkError(failure('broken\nmore', 'ESOMETHING'))).to.equal(
      'broken (ESOMETHING)',
    );
    expect(describeNetworkError('plain')).to.equal('plain');
  });
});
