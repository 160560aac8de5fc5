import { ReceiptStatus } from '../protocol/messages';
import { ClientPlan, EchoPlan, LoadPlan } from './client-plan';
import { Phase } from './load-phase';
import { partnerOf, Roster } from './roster';

/**
 * What a load test does: `echo`, every client sends to itself; `direct`, clients in pairs send
 * each other direct messages; `offline`, half the clients register and leave, the other half
 * send them a burst that is stored, then the first half come back and are delivered it.
 */
export type LoadMode = 'echo' | 'direct' | 'offline';

export interface ModeOptions extends LoadPlan {
  readonly clients: number;
  readonly holdMs: number;
  /** The servers (of one cluster) the clients are spread over: 1 or more. */
  readonly servers: number;
}

const NEW_USER = { kind: 'new-user' } as const;

/**
 * Client `index` of a phase is on server `index % servers`. The two clients of a pair (see
 * partnerOf) are consecutive, so they are on different servers whenever there are two or more.
 */
const spread = (servers: number) => (index: number) => index % servers;

/** The server after the one `spread` puts client `index` on: another one, when there are two. */
const elsewhere = (servers: number) => (index: number) => (index + 1) % servers;

function echoPhases(options: ModeOptions): Phase[] {
  const plan: EchoPlan = { kind: 'echo', sends: options };
  return [
    {
      clients: options.clients,
      plan: () => plan,
      server: spread(options.servers),
      counts: 'echoes',
      label: 'echoed',
      expected: options.clients * options.messages,
      holdMs: options.holdMs,
    },
  ];
}

function directPhases(options: ModeOptions): Phase[] {
  const users = new Roster('client');
  const partner = (index: number) => () => users.id(partnerOf(index));
  return [
    {
      clients: options.clients,
      plan: (index): ClientPlan => ({
        kind: 'direct',
        greeting: NEW_USER,
        sends: {
          plan: options,
          to: partner(index),
          receipts: [ReceiptStatus.DELIVERED, ReceiptStatus.STORED],
        },
        receives: { count: options.messages, from: partner(index), size: options.size },
        greeted: (credentials) => users.record(index, credentials),
      }),
      server: spread(options.servers),
      counts: 'deliveries',
      label: 'delivered',
      expected: options.clients * options.messages,
      holdMs: options.holdMs,
    },
  ];
}

/**
 * The three phases of `offline`: the recipients register and leave, the burst, the resume. With
 * two servers or more, each recipient resumes on another server than the one it registered on.
 */
function offlinePhases(options: ModeOptions): Phase[] {
  const pairs = options.clients / 2;
  const recipients = new Roster('recipient');
  const senders = new Roster('sender');
  const burst = pairs * options.messages;
  return [
    {
      clients: pairs,
      plan: (index): ClientPlan => ({
        kind: 'echo',
        sends: { ...options, messages: 0 },
        greeted: (credentials) => recipients.record(index, credentials),
      }),
      server: spread(options.servers),
      counts: 'echoes',
      label: 'echoed',
      expected: 0,
      holdMs: 0,
    },
    {
      clients: pairs,
      plan: (index): ClientPlan => ({
        kind: 'direct',
        greeting: NEW_USER,
        sends: { plan: options, to: () => recipients.id(index), receipts: [ReceiptStatus.STORED] },
        greeted: (credentials) => senders.record(index, credentials),
      }),
      server: spread(options.servers),
      counts: 'echoes',
      label: 'stored',
      expected: burst,
      holdMs: 0,
    },
    {
      clients: pairs,
      plan: (index): ClientPlan => ({
        kind: 'direct',
        greeting: {
          kind: 'resume',
          as: () => recipients.credentials(index),
          pending: options.messages,
        },
        receives: { count: options.messages, from: () => senders.id(index), size: options.size },
      }),
      // A user who comes back comes back on another server than the one it registered on.
      server: elsewhere(options.servers),
      counts: 'deliveries',
      label: 'delivered',
      expected: burst,
      holdMs: options.holdMs,
    },
  ];
}

/** The phases of a load test in `mode`, in order. */
export function phasesOf(mode: LoadMode, options: ModeOptions): Phase[] {
  switch (mode) {
    case 'echo':
      return echoPhases(options);
    case 'direct':
      return directPhases(options);
    case 'offline':
      return offlinePhases(options);
  }
}
