import { expect } from 'chai';
import { SignalHub } from '../../src/server/signal-hub';

describe('SignalHub', () => {
  it('sends a signal to one user, broadcasts to all, and forgets a user who stops listening', () => {
    const hub = new SignalHub<string>();
    const heard: string[] = [];
    const one = hub.signalsFor(1n).subscribe((signal) => heard.push(`1 ${signal}`));
    hub.signalsFor(2n).subscribe((signal) => heard.push(`2 ${signal}`));
    hub.send(2n, 'kick');
    hub.send(3n, 'nobody');
    hub.broadcast('hello');
    one.unsubscribe();
    hub.broadcast('again');
    expect(heard).to.deep.equal(['2 kick', '1 hello', '2 hello', '2 again']);
  });

  it("gives a user's signals to the newest listener, and keeps them there when an older one leaves", () => {
    const hub = new SignalHub<string>();
    const heard: string[] = [];
    const old = hub.signalsFor(1n).subscribe((signal) => heard.push(`old ${signal}`));
    hub.signalsFor(1n).subscribe((signal) => heard.push(`new ${signal}`));
    old.unsubscribe();
    hub.send(1n, 'hi');
    expect(heard).to.deep.equal(['new hi']);
    expect(hub.isOnline(1n)).to.equal(true);
  });
});
