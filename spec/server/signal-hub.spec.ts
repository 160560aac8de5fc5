import { expect } from 'chai';
import { SignalHub } from '../../src/server/signal-hub';
import { SignalListener } from '../../src/server/switchboard';

/** A listener that writes what it hears into `heard`, as `<label> <signal>`. */
function recorder(heard: string[], label: string): SignalListener<string> {
  return { hear: (signal) => heard.push(`${label} ${signal}`) };
}

describe('SignalHub', () => {
  it('sends a signal to one user, broadcasts to all, and forgets a user who stops listening', () => {
    const hub = new SignalHub<string>();
    const heard: string[] = [];
    const one = recorder(heard, '1');
    hub.listen(1n, one);
    hub.listen(2n, recorder(heard, '2'));
    hub.send(2n, 'kick');
    hub.send(3n, 'nobody');
    hub.broadcast('hello');
    hub.leave(1n, one);
    hub.broadcast('again');
    expect(heard).to.deep.equal(['2 kick', '1 hello', '2 hello', '2 again']);
    expect([...hub.users()]).to.deep.equal([2n]);
  });

  it("gives a user's signals to the newest listener, and keeps them there when an older one leaves", () => {
    const hub = new SignalHub<string>();
    const heard: string[] = [];
    const old = recorder(heard, 'old');
    hub.listen(1n, old);
    hub.listen(1n, recorder(heard, 'new'));
    hub.leave(1n, old);
    hub.send(1n, 'hi');
    expect(heard).to.deep.equal(['new hi']);
    expect(hub.isOnline(1n)).to.equal(true);
  });
});
