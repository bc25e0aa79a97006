/** Looking at bytes without Node: the gzip magic, a hex head for messages. */

/** True when `bytes` start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The first bytes of `bytes` in hex, for messages about unexpected contents. */
export function hexHead(bytes: Uint8Array, n = 4): string {
  return Array.from(bytes.subarray(0, n), (b) => b.toString(16).padStart(2, '0')).join(' ') || '(empty)';
}
