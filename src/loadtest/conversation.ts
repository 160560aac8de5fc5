import * as generated from '../protocol/generated/chat';

/** What a client does in answer to one thing that happened: what to write, and what it found. */
export interface Step {
  readonly write?: Buffer | undefined;
  /** The client became ready to start with this step. */
  readonly ready?: boolean;
  /** What the frames read in this step were, when it read any. */
  readonly checked?: {
    readonly echoes: number;
    readonly deliveries: number;
    readonly mismatches: readonly string[];
  };
}

/**
 * What a load-test client makes of its connection after the handshake, in the part it plays:
 * what it sends, and its check of what the server sends back. It decides; the connection
 * writes and reports.
 */
export interface Conversation {
  /** The server's handshake is in. */
  greet(handshake: generated.Handshake): Step;
  /** Every client is ready: the work starts. */
  start(): Step;
  /** Frames from the server, without their length prefixes, arrived at `now`. */
  read(bodies: readonly Buffer[], now: number): Step;
  /** Everything it sent is answered and everything it expects has come. */
  readonly done: boolean;
  /** How far it got, as in "after 3 of 5 echoes". */
  progress(): string;
}
