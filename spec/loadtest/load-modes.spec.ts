import { expect } from 'chai';
import Long from 'long';
import { ClientPlan, DirectPlan } from '../../src/loadtest/client-plan';
import { phasesOf } from '../../src/loadtest/load-modes';
import { Phase } from '../../src/loadtest/load-phase';
import { ReceiptStatus } from '../../src/protocol/messages';

const options = { clients: 4, messages: 10, window: 2, size: 4, holdMs: 7, servers: 1 };
const secret = Buffer.from('s');
const user = (id: number) => ({ id: Long.fromInt(id), secret });

function direct(plan: ClientPlan): DirectPlan {
  if (plan.kind !== 'direct') throw new Error(`a ${plan.kind} plan`);
  return plan;
}

const shape = (phases: Phase[]) =>
  phases.map(({ clients, counts, label, expected, holdMs }) => ({
    clients,
    counts,
    label,
    expected,
    holdMs,
  }));

describe('phasesOf', () => {
  it('echo: one phase, every client sending to itself', () => {
    const phases = phasesOf('echo', options);
    expect(shape(phases)).to.deep.equal([
      { clients: 4, counts: 'echoes', label: 'echoed', expected: 40, holdMs: 7 },
    ]);
    expect(phases[0]?.plan(3)).to.deep.equal({ kind: 'echo', sends: options });
  });

  it('direct: one phase of pairs, each client sending to its partner and delivered what it sends', () => {
    const [phase] = phasesOf('direct', options);
    expect(shape(phase ? [phase] : [])).to.deep.equal([
      { clients: 4, counts: 'deliveries', label: 'delivered', expected: 40, holdMs: 7 },
    ]);
    const plans = [0, 1, 2, 3].map((index) => direct(phase?.plan(index) as ClientPlan));
    plans.forEach((plan, index) => plan.greeted?.(user(100 + index)));
    const partners = plans.map((plan) => [
      plan.sends?.to().toNumber(),
      plan.receives?.from().toNumber(),
    ]);
    expect(partners).to.deep.equal([
      [101, 101],
      [100, 100],
      [103, 103],
      [102, 102],
    ]);
    expect(plans[0]?.sends?.receipts).to.deep.equal([
      ReceiptStatus.DELIVERED,
      ReceiptStatus.STORED,
    ]);
    expect(plans[0]?.receives?.count).to.equal(10);
  });

  it('offline: the recipients register and leave, the senders burst, the recipients resume', () => {
    const phases = phasesOf('offline', options);
    expect(shape(phases)).to.deep.equal([
      { clients: 2, counts: 'echoes', label: 'echoed', expected: 0, holdMs: 0 },
      { clients: 2, counts: 'echoes', label: 'stored', expected: 20, holdMs: 0 },
      { clients: 2, counts: 'deliveries', label: 'delivered', expected: 20, holdMs: 7 },
    ]);
    const [register, burst, resume] = phases as [Phase, Phase, Phase];
    const recipient = register.plan(1);
    expect(recipient).to.deep.include({ kind: 'echo', sends: { ...options, messages: 0 } });
    recipient.greeted?.(user(11));

    const sender = direct(burst.plan(1));
    expect(sender.sends?.to().toNumber()).to.equal(11);
    expect(sender.sends?.receipts).to.deep.equal([ReceiptStatus.STORED]);
    expect(sender.receives).to.equal(undefined);
    sender.greeted?.(user(21));

    const back = direct(resume.plan(1));
    expect(back.greeting.kind === 'resume' && back.greeting.as()).to.deep.equal(user(11));
    expect(back.greeting).to.include({ pending: 10 });
    expect(back.receives?.from().toNumber()).to.equal(21);
    expect(back.sends).to.equal(undefined);

    const never = direct(resume.plan(0));
    expect(() => never.greeting.kind === 'resume' && never.greeting.as()).to.throw(
      'recipient 0 has no id: it never had its handshake',
    );
  });

  describe('over several servers', () => {
    const servers = (phase: Phase | undefined) =>
      Array.from({ length: phase?.clients ?? 0 }, (_, index) => phase?.server(index));

    it('one server: every client of every mode on it, as without --ports', () => {
      for (const mode of ['echo', 'direct', 'offline'] as const) {
        for (const phase of phasesOf(mode, options)) {
          expect(servers(phase)).to.deep.equal(Array<number>(phase.clients).fill(0));
        }
      }
    });

    it('echo: client i on server i % n', () => {
      const [phase] = phasesOf('echo', { ...options, clients: 7, servers: 3 });
      expect(servers(phase)).to.deep.equal([0, 1, 2, 0, 1, 2, 0]);
    });

    it('direct: the two users of every pair on different servers, whatever the number of servers', () => {
      for (const count of [2, 3, 4, 5]) {
        const [phase] = phasesOf('direct', { ...options, clients: 20, servers: count }) as [Phase];
        const plans = Array.from({ length: phase.clients }, (_, index) => {
          const plan = direct(phase.plan(index));
          plan.greeted?.(user(100 + index));
          return plan;
        });
        // Each one's partner found by the id it sends to, not by the pairing's own rule.
        plans.forEach((plan, index) => {
          const partner = (plan.sends?.to().toNumber() ?? NaN) - 100;
          expect(plans[partner]?.sends?.to().toNumber(), `pair of ${index}`).to.equal(100 + index);
          expect(phase.server(partner), `${index} and ${partner} on ${count} servers`).to.not.equal(
            phase.server(index),
          );
        });
        expect(new Set(servers(phase)).size).to.equal(count);
      }
    });

    it('offline: each user comes back on another server than the one it registered on', () => {
      for (const count of [2, 3]) {
        const phases = phasesOf('offline', { ...options, clients: 12, servers: count });
        const [register, burst, resume] = phases as [Phase, Phase, Phase];
        expect(servers(register)).to.deep.equal(servers(burst));
        for (let index = 0; index < resume.clients; index++) {
          register.plan(index).greeted?.(user(10 + index));
          const back = direct(resume.plan(index));
          // The one who resumes as user 10 + index is the one who registered as it.
          expect(back.greeting.kind === 'resume' && back.greeting.as().id.toNumber()).to.equal(
            10 + index,
          );
          expect(resume.server(index)).to.not.equal(register.server(index));
        }
        expect(new Set(servers(resume)).size).to.equal(count);
      }
    });
  });
});
