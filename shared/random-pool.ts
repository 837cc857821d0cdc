import crypto from 'node:crypto';

const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

/**
 * `n` (≤ 256) bytes from the CSPRNG, taken from a buffer filled 4 KiB at a time. Measured on the campus-code
 * upload (500 payments per request, each with an order number and an AES-GCM IV): one crypto.randomBytes
 * call per small value cost more than the rest of making the number. Bytes handed out are never reused; a
 * used-up pool is replaced, not refilled, so earlier slices stay as they were.
 */
export function pooledRandomBytes(n: number): Buffer {
  if (n > 256) return crypto.randomBytes(n);
  if (offset + n > pool.length) {
    pool = crypto.randomBytes(POOL_BYTES);
    offset = 0;
  }
  const bytes = pool.subarray(offset, offset + n);
  offset += n;
  return bytes;
}
