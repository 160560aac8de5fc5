/** A reason a client gives up: printed as one line, and the client exits 1. */
export class ClientError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ClientError';
  }
}
