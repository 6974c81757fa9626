import { randomBytes } from 'node:crypto';

// Ids come from a pooled random buffer: one getrandom() per ~500 runs instead of several per run.
const POOL_SIZE = 12_288;
let pool = randomBytes(POOL_SIZE);
let offset = 0;

function take(bytes: number): number {
  if (offset + bytes > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  const start = offset;
  offset += bytes;
  return start;
}

/** `bytes` random bytes as lower-case hex (a trace id is 16, a span id 8). */
export function randomHex(bytes: number): string {
  const start = take(bytes);
  return pool.toString('hex', start, start + bytes);
}

const HEX = '0123456789abcdef';
const uuidBytes = Buffer.alloc(36);

/**
 * A random (version 4) UUID as one flat string. `crypto.randomUUID()` on Node 20 returns a string
 * joined from many pieces that a run holding its id keeps alive (~0.4 KB); this one is 36 bytes.
 */
export function randomUuid(): string {
  const start = take(16);
  let out = 0;
  for (let i = 0; i < 16; i++) {
    let byte = pool[start + i] as number;
    if (i === 6) byte = (byte & 0x0f) | 0x40;
    if (i === 8) byte = (byte & 0x3f) | 0x80;
    if (i === 4 || i === 6 || i === 8 || i === 10) uuidBytes[out++] = 0x2d;
    uuidBytes[out++] = HEX.charCodeAt(byte >> 4);
    uuidBytes[out++] = HEX.charCodeAt(byte & 0x0f);
  }
  return uuidBytes.toString('latin1');
}
