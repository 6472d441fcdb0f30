// A throwaway self-signed certificate made with the openssl CLI: for 127.0.0.1 and localhost by default, or
// for the addresses a test names (a TURN host in the test bed). `spki` is the base64 SHA-256 of its public
// key, what Chromium's --ignore-certificate-errors-spki-list takes to trust that one key.
import { createHash, X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SelfSignedCert {
  /** PEM. */
  cert: string;
  /** PEM, unencrypted. */
  key: string;
  spki: string;
}

export function selfSignedCert(
  options: { ips?: readonly string[]; dnsNames?: readonly string[]; commonName?: string } = {},
): SelfSignedCert {
  const ips = options.ips ?? (options.dnsNames ? [] : ['127.0.0.1']);
  const dnsNames = options.dnsNames ?? (options.ips ? [] : ['localhost']);
  const altNames = [...ips.map((ip) => `IP:${ip}`), ...dnsNames.map((name) => `DNS:${name}`)].join(',');
  const dir = mkdtempSync(join(tmpdir(), 'parley-cert-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '2',
        '-subj',
        `/CN=${options.commonName ?? 'parley-test'}`,
        '-addext',
        `subjectAltName=${altNames}`,
      ],
      { stdio: 'ignore' },
    );
    const certPem = readFileSync(cert, 'utf8');
    const der = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
    return {
      cert: certPem,
      key: readFileSync(key, 'utf8'),
      spki: createHash('sha256').update(der).digest('base64'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
