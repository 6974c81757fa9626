import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { BatonError } from '../errors.js';
import { canonicalJson } from '../util/canonical.js';
import type { AuditHead, AuditTail } from './types.js';

/** An ed25519 key: a `KeyObject` or its PEM text. */
export type AuditKey = KeyObject | string;

/**
 * What a head's signature covers. The tag keeps a signature made for anything else with the same key from
 * ever passing as an audit head.
 */
function signedBytes(head: Omit<AuditHead, 'signature'>): Buffer {
  const { seq, hash, at, keyId } = head;
  return Buffer.from(canonicalJson({ tag: 'baton.audit.head.v1', seq, hash, at, keyId }), 'utf8');
}

/** The private key to sign heads with. Errors never include the key. */
export function auditPrivateKey(key: AuditKey): KeyObject {
  let object: KeyObject;
  try {
    object = typeof key === 'string' ? createPrivateKey(key) : key;
  } catch {
    throw badKey('the signing key is not a PEM private key');
  }
  if (object.type !== 'private') throw badKey('the signing key must be a private key');
  if (object.asymmetricKeyType !== 'ed25519') throw badKey('the signing key must be an ed25519 key');
  return object;
}

/** The public key heads are verified with (a private key gives its public half). */
export function auditPublicKey(key: AuditKey): KeyObject {
  let object: KeyObject;
  try {
    object = typeof key === 'string' || key.type === 'private' ? createPublicKey(key) : key;
  } catch {
    throw badKey('the public key is not a PEM ed25519 key');
  }
  if (object.asymmetricKeyType !== 'ed25519') throw badKey('the public key must be an ed25519 key');
  return object;
}

/** A short, stable name for a key: the start of the sha256 of its public half (SPKI DER). */
export function auditKeyId(key: AuditKey): string {
  const der = auditPublicKey(key).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

export function signHead(tail: AuditTail, key: KeyObject, keyId: string, at = Date.now()): AuditHead {
  const unsigned = { seq: tail.seq, hash: tail.hash, at, keyId };
  return { ...unsigned, signature: sign(null, signedBytes(unsigned), key).toString('base64') };
}

/** True when one of `keys` made the head's signature. */
export function headSigned(head: AuditHead, keys: readonly KeyObject[]): boolean {
  const data = signedBytes(head);
  const signature = Buffer.from(head.signature, 'base64');
  return keys.some((key) => {
    try {
      return verify(null, data, key, signature);
    } catch {
      return false;
    }
  });
}

function badKey(message: string): BatonError {
  return new BatonError('CONFIG_INVALID', `Audit log: ${message}`, {
    hint: "Create one with generateKeyPairSync('ed25519') from node:crypto, or `openssl genpkey -algorithm ed25519`",
  });
}
