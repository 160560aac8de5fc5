import { createPrivateKey, KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describeError } from '../server/failure-text';
import { describeTlsError, listenTls, TlsTrust } from '../transport/tls';
import { listen } from '../transport/tcp';
import { flag, FlagValues, UsageError } from './flags';

/** A server's TLS flags: both, or neither for plain TCP. */
export const tlsServerFlags = {
  'tls-cert': flag.text('', 'a file name'),
  'tls-key': flag.text('', 'a file name'),
};

export const TLS_SERVER_USAGE = '[--tls-cert FILE --tls-key FILE]';

/** A client's TLS flags: `--tls`, and the CA to verify the server against. */
export const tlsClientFlags = { tls: flag.switch(), ca: flag.text('', 'a file name') };

export const TLS_CLIENT_USAGE = '[--tls [--ca FILE]]';

function readPem(file: string, name: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new Error(`cannot read --${name} ${file}: ${describeError(error)}`, { cause: error });
  }
}

function certificateIn(pem: Buffer, file: string, name: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (error) {
    throw new Error(`--${name} ${file} is not a PEM certificate: ${describeTlsError(error)}`, {
      cause: error,
    });
  }
}

function privateKeyIn(pem: Buffer, file: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (error) {
    throw new Error(`--tls-key ${file} is not a PEM private key: ${describeTlsError(error)}`, {
      cause: error,
    });
  }
}

/** The server's TLS in a server setup: what it listens with, and the line that says so. */
export interface ServerTls {
  readonly listen: typeof listen;
  /** What the server's log says before it listens: whose certificate, until when. */
  readonly line: string;
}

/**
 * The listener of `--tls-cert` and `--tls-key`, or undefined for plain TCP. One without the
 * other is a UsageError; a file that cannot be read, is not PEM, or a key that is not the
 * certificate's, is an Error in one line.
 */
export function serverTls(flags: FlagValues<typeof tlsServerFlags>): ServerTls | undefined {
  const certFile = flags['tls-cert'];
  const keyFile = flags['tls-key'];
  if (certFile === '' && keyFile === '') return undefined;
  if (certFile === '' || keyFile === '')
    throw new UsageError('--tls-cert and --tls-key go together');
  const cert = readPem(certFile, 'tls-cert');
  const key = readPem(keyFile, 'tls-key');
  const certificate = certificateIn(cert, certFile, 'tls-cert');
  if (!certificate.checkPrivateKey(privateKeyIn(key, keyFile))) {
    throw new Error(
      `--tls-key ${keyFile} is not the private key of the certificate in ${certFile}`,
    );
  }
  const subject = certificate.subject.replaceAll('\n', ', ');
  const names = certificate.subjectAltName === undefined ? '' : ` (${certificate.subjectAltName})`;
  const expired = Date.parse(certificate.validTo) < Date.now() ? ' (expired)' : '';
  return {
    listen: (host, port, transportOptions) =>
      listenTls(host, port, { cert, key }, transportOptions),
    line: `TLS with the certificate of ${subject}${names}, valid until ${certificate.validTo}${expired}`,
  };
}

/**
 * How a client checks the server with `--tls` and `--ca`, or undefined for plain TCP.
 * Without `--ca`, against Node's CAs, unless `verifyWithoutCa` is false (the load tester).
 */
export function clientTls(
  flags: FlagValues<typeof tlsClientFlags>,
  verifyWithoutCa = true,
): TlsTrust | undefined {
  if (!flags.tls) {
    if (flags.ca !== '') throw new UsageError('--ca goes with --tls');
    return undefined;
  }
  if (flags.ca === '') return { verify: verifyWithoutCa };
  const ca = readPem(flags.ca, 'ca');
  certificateIn(ca, flags.ca, 'ca');
  return { ca };
}
