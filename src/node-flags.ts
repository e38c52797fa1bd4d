// The flags geogate's processes run node with: `bin/geogate.js` carries them in its first line,
// `npm start` on its command line, and the bench starts the gateway and its baseline with them.
//
// A young generation of a fixed 16 MB per semi-space. V8 sizes it by the allocation rate it
// sees at each collection: a gateway that went quiet for a few seconds (night traffic, or a
// replica just put back behind the balancer) had it cut to 1 MB, and under load it grew back
// only slowly. Meanwhile a collection ran every few hundred requests, and the warm p99 doubled:
// 2.1 ms steady, 3.3–4.5 ms for a gateway idle 18 s between runs of the same load; with this
// flag 2.0–2.1 ms either way (`npm run bench`, the warm group). It costs about 32 MB of memory.
export const NODE_FLAGS = ['--min-semi-space-size=16'] as const
