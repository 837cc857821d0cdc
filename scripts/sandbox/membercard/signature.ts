/**
 * How card management (mini-core) checks the RSA2 signature of a CRM's /card/update and /card/changeTemplate:
 * our reading of seed 003's SignHelper (docs/membercard.md), written here independently of the platform's
 * signer so that the two can disagree if one of them drifts. The string: every parameter but `sign` that
 * has a value, sorted by name, `name=value` joined by `&`; SHA256withRSA; the signature base64 in `sign`.
 */
import crypto from 'node:crypto';

export function signedContent(params: Record<string, string>): string {
  const names = Object.keys(params)
    .filter((name) => name !== 'sign' && params[name] !== '')
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return names.map((name) => `${name}=${params[name]}`).join('&');
}

export function isSignatureValid(params: Record<string, string>, publicKeyPem: string): boolean {
  if (!params.sign) return false;
  try {
    return crypto.verify(
      'sha256',
      Buffer.from(signedContent(params), 'utf8'),
      publicKeyPem,
      Buffer.from(params.sign, 'base64'),
    );
  } catch {
    return false;
  }
}
