/** What was wrong with the bytes a peer sent. */
export type ProtocolErrorCode =
  'FRAME_TOO_LARGE' | 'MALFORMED_LENGTH' | 'INVALID_MESSAGE' | 'LINE_TOO_LONG' | 'TRUNCATED_FRAME';

/** A peer sent bytes that cannot be read; the connection they came on is closed, nothing else. */
export class ProtocolError extends Error {
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}
