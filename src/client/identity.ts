import Long from 'long';
import { parseInt64 } from '../protocol/messages';

/** Who a client is to the server: its id and secret, and the last delivery it has shown. */
export interface Identity {
  readonly id: Long;
  readonly secret: Uint8Array;
  /** Deliveries up to this number were shown already: one that comes again is a duplicate. */
  readonly lastDelivery: Long;
}

/** An identity as the text of an identity file. */
export function formatIdentity({ id, secret, lastDelivery }: Identity): string {
  const fields = {
    id: id.toString(),
    secret: Buffer.from(secret).toString('hex'),
    lastDelivery: lastDelivery.toString(),
  };
  return `${JSON.stringify(fields, null, 2)}\n`;
}

/** An identity file's text as an identity; throws an Error saying what is wrong with it. */
export function parseIdentity(text: string): Identity {
  let fields: unknown;
  try {
    fields = JSON.parse(text);
  } catch {
    throw new Error('it is not JSON');
  }
  const { id, secret, lastDelivery = '0' } = (fields ?? {}) as Record<string, unknown>;
  const parsedId = typeof id === 'string' ? parseInt64(id) : undefined;
  if (!parsedId?.greaterThan(0)) throw new Error('"id" is not a user id');
  if (typeof secret !== 'string' || !/^([0-9a-f]{2})+$/.test(secret)) {
    throw new Error('"secret" is not hexadecimal');
  }
  const last = typeof lastDelivery === 'string' ? parseInt64(lastDelivery) : undefined;
  if (last === undefined || last.isNegative()) throw new Error('"lastDelivery" is not a number');
  return { id: parsedId, secret: Buffer.from(secret, 'hex'), lastDelivery: last.toUnsigned() };
}
