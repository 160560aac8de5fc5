import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const OPENSSL = '/usr/bin/openssl';

/** Why TLS tests cannot run here, or undefined when openssl is installed. */
export function missingOpenssl(): string | undefined {
  return existsSync(OPENSSL) ? undefined : `openssl is not installed (no ${OPENSSL})`;
}

/** A self-signed certificate and its key: files, and their PEM. */
export interface CertificatePair {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: Buffer;
  readonly key: Buffer;
}

/**
 * Makes a self-signed pair in `directory` with openssl, as the README says (an EC key, which is
 * quicker to make than RSA): `<name>.crt` and `<name>.key`, for the common name `cn` and the
 * subject alternative names `altNames` (none if empty).
 */
export function makeCertificate(
  directory: string,
  name: string,
  cn = 'localhost',
  altNames = 'DNS:localhost,IP:127.0.0.1',
): CertificatePair {
  const certFile = join(directory, `${name}.crt`);
  const keyFile = join(directory, `${name}.key`);
  const extensions = altNames === '' ? [] : ['-addext', `subjectAltName=${altNames}`];
  execFileSync(
    OPENSSL,
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-subj',
      `/CN=${cn}`,
      ...extensions,
    ],
    { stdio: 'ignore' },
  );
  return { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
}
