// The hash behind rendezvous selection. It must give the same number for the same input in
// every gateway replica, so it is plain integer arithmetic: no crypto, no Math.random, no
// platform-dependent formatting.

const FNV_OFFSET = 0x811c9dc5
const FNV_PRIME = 0x01000193
// Separates node seeds from key hashes, so a key that happens to equal a node id does not
// hash like that node's seed.
const SEED_DOMAIN = 0x9e3779b9
const TWO_POW_32 = 4294967296

/** FNV-1a over the string's UTF-16 code units; 32 bits, unsigned. */
export function fnv1a32 (text: string): number {
  let h = FNV_OFFSET
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, FNV_PRIME)
  }
  return h >>> 0
}

/** murmur3's finalizer: every input bit affects every output bit (FNV alone mixes poorly). */
export function fmix32 (x: number): number {
  x ^= x >>> 16
  x = Math.imul(x, 0x85ebca6b)
  x ^= x >>> 13
  x = Math.imul(x, 0xc2b2ae35)
  x ^= x >>> 16
  return x >>> 0
}

/** The per-request half of the pair hash, computed once per key. */
export function hashKey (key: string): number {
  return fmix32(fnv1a32(key))
}

/** The per-node half of the pair hash, computed once per node when a snapshot is built. */
export function nodeSeed (nodeId: string): number {
  return fmix32(fnv1a32(nodeId) ^ SEED_DOMAIN)
}

/** The pair (key, node) mapped into the open interval (0, 1), so its logarithm is finite and negative. */
export function pairUnit (keyHash: number, seed: number): number {
  return (fmix32(keyHash ^ seed) + 0.5) / TWO_POW_32
}
