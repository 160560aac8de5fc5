import { expect } from 'chai';
import fc from 'fast-check';
import { firstValueFrom, Observable } from 'rxjs';
import {
  ChatStore,
  StoredDelivery,
  StoreOutcome,
  StoreWrite,
  UserSummary,
} from '../../src/store/chat-store';

/** One call of a store, as a model-based test makes it. */
export type StoreCommand =
  | { readonly write: StoreWrite; readonly maxPending: number }
  | { readonly waiting: { user: bigint; after: bigint; limit: number } }
  | { readonly release: bigint };

/** The users that exist when a plan starts, in the store and in the model. */
const STARTING_USERS = [1n, 2n, 3n];

const user = fc.bigInt({ min: 1n, max: 4n }); // users 1 to 3 exist, 4 never does
const number = fc.bigInt({ min: 0n, max: 8n });

/** Any command: writes (any text, also no UTF-8 at all) most often, then reads, then releases. */
const storeCommand: fc.Arbitrary<StoreCommand> = fc.oneof(
  {
    arbitrary: fc.record({
      write: fc.record(
        {
          messages: fc.array(
            fc.record({
              from: user,
              recipient: user,
              msg: fc.string({ unit: 'binary', maxLength: 3 }),
              sentNow: fc.boolean(),
            }),
            { maxLength: 4 },
          ),
          acknowledge: fc.record({ user, upTo: number }),
        },
        { requiredKeys: ['messages'] },
      ),
      maxPending: fc.integer({ min: 0, max: 4 }),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      waiting: fc.record({ user, after: number, limit: fc.integer({ min: 0, max: 5 }) }),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ release: user }), weight: 1 },
);

/** Plans: turns of one to three calls that the store is asked for together, at most 12 turns. */
export const storePlan: fc.Arbitrary<StoreCommand[][]> = fc.array(
  fc.array(storeCommand, { minLength: 1, maxLength: 3 }),
  { maxLength: 12 },
);

interface ModelUser {
  last: bigint;
  acknowledged: bigint;
  sentUpTo: bigint;
  readonly kept: Map<bigint, { from: bigint; msg: string }>;
}

/** What the store should answer, from a few plain maps. */
class StoreModel {
  readonly users = new Map<bigint, ModelUser>(
    STARTING_USERS.map((id) => [id, { last: 0n, acknowledged: 0n, sentUpTo: 0n, kept: new Map() }]),
  );

  /** @param storedOutcome what the store answers for a message it stored as `delivery` */
  constructor(private readonly storedOutcome: (delivery: bigint) => StoreOutcome) {}

  apply(command: StoreCommand): unknown {
    if ('write' in command) return this.write(command.write, command.maxPending);
    if ('waiting' in command) return this.waiting(command.waiting);
    const found = this.users.get(command.release);
    if (found && found.last === found.acknowledged) this.users.delete(command.release);
    return undefined;
  }

  summary(): UserSummary[] {
    return [...this.users]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([id, { last, acknowledged }]) => ({ id, waiting: last - acknowledged }));
  }

  private write({ messages, acknowledge }: StoreWrite, maxPending: number): StoreOutcome[] {
    const outcomes = messages.map(({ from, recipient, msg, sentNow }): StoreOutcome => {
      const found = this.users.get(recipient);
      if (!found) return { refused: 'unknown-recipient' };
      if (found.last - found.acknowledged >= BigInt(maxPending)) {
        return { refused: 'mailbox-full' };
      }
      const delivery = ++found.last;
      found.kept.set(delivery, { from, msg });
      if (sentNow) found.sentUpTo = delivery;
      return this.storedOutcome(delivery);
    });
    const acknowledging = acknowledge && this.users.get(acknowledge.user);
    if (acknowledge && acknowledging) {
      const until = acknowledge.upTo < acknowledging.last ? acknowledge.upTo : acknowledging.last;
      for (let n = acknowledging.acknowledged + 1n; n <= until; n++) acknowledging.kept.delete(n);
      if (until > acknowledging.acknowledged) acknowledging.acknowledged = until;
    }
    return outcomes;
  }

  private waiting({ user: id, after, limit }: { user: bigint; after: bigint; limit: number }) {
    const found = this.users.get(id);
    if (!found) return [];
    const page: StoredDelivery[] = [...found.kept]
      .filter(([delivery]) => delivery > after)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .slice(0, limit)
      .map(([delivery, { from, msg }]) => ({
        delivery,
        from,
        msg,
        redelivered: delivery <= found.sentUpTo,
      }));
    const last = page.at(-1)?.delivery ?? 0n;
    if (last > found.sentUpTo) found.sentUpTo = last;
    return page;
  }
}

function call(store: ChatStore, command: StoreCommand): Observable<unknown> {
  if ('write' in command) return store.write(command.write, command.maxPending);
  if ('waiting' in command) {
    const { user: id, after, limit } = command.waiting;
    return store.waiting(id, after, limit);
  }
  return store.releaseUser(command.release);
}

/**
 * Gives `store`, new and empty, the starting users (in one turn), then asks it for `plan` a turn
 * at a time, the calls of a turn together, and asserts that every answer is the model's and
 * that the users it lists at the end are the model's.
 */
export async function expectStoreAsModel(
  store: ChatStore,
  plan: readonly (readonly StoreCommand[])[],
  { storedOutcome }: { readonly storedOutcome: (delivery: bigint) => StoreOutcome },
): Promise<void> {
  await Promise.all(
    STARTING_USERS.map((id) => firstValueFrom(store.addUser(id, Buffer.alloc(32, Number(id))))),
  );
  const model = new StoreModel(storedOutcome);
  for (const calls of plan) {
    const answers = await Promise.all(calls.map((each) => firstValueFrom(call(store, each))));
    expect(answers).to.deep.equal(calls.map((each) => model.apply(each)));
  }
  expect(await firstValueFrom(store.users())).to.deep.equal(model.summary());
}
