/** What a server limits for each connection; 0 turns a limit off. */
export interface ConnectionLimits {
  /** Messages a second a connection may send (a token bucket), and how many at once. */
  readonly maxMsgsPerSec: number;
  readonly msgsBurst: number;
  /** A connection that sends nothing for this long is closed. */
  readonly idleTimeoutMs: number;
  /** A frame begun and not finished within this long closes its connection (slowloris). */
  readonly frameTimeoutMs: number;
}

export const NO_LIMITS: ConnectionLimits = {
  maxMsgsPerSec: 0,
  msgsBurst: 0,
  idleTimeoutMs: 0,
  frameTimeoutMs: 0,
};

/** Which limit turned a connection away, slowed it or closed it. */
export type LimitName = 'per-address' | 'rate' | 'idle' | 'frame-timeout';
