import Long from 'long';
import { Credentials } from './client-plan';

/** Clients 0 and 1 are partners, 2 and 3, and so on. */
export function partnerOf(index: number): number {
  return index ^ 1;
}

/** The credentials of a load test's clients, by index, as their handshakes come in. */
export class Roster {
  private readonly seats = new Map<number, Credentials>();

  constructor(private readonly who: string) {}

  record(index: number, credentials: Credentials): void {
    this.seats.set(index, credentials);
  }

  /** Client `index`'s credentials; an error if it never had its handshake. */
  credentials(index: number): Credentials {
    const credentials = this.seats.get(index);
    if (!credentials) throw new Error(`${this.who} ${index} has no id: it never had its handshake`);
    return credentials;
  }

  id(index: number): Long {
    return this.credentials(index).id;
  }
}
