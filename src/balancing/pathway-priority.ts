// The order an HLS viewer's pathways (the nodes its answer offered) are tried in, from the live
// state each time its player asks (the steering manifest's PATHWAY-PRIORITY): nodes that may take
// viewers now, then the others — silent, disabled, draining, full, or gone from the view — each
// part in the order first offered. The node the player says it plays from stays first while it
// may: a viewer is not moved back and forth between two healthy nodes, only off one that is not.
// Reads the in-memory view only: no store, no allocation beyond the answer.

import { liveIneligibility } from './eligibility.js'
import type { Snapshot } from './snapshot.js'

export function pathwayPriority (
  snapshot: Snapshot, pathways: readonly string[], current: string | undefined, nowMs: number, nodeTtlMs: number
): string[] {
  const healthy: string[] = []
  const unhealthy: string[] = []
  for (const id of pathways) {
    const node = snapshot.nodesById.get(id)
    if (node !== undefined && liveIneligibility(node, nowMs, nodeTtlMs) === null) {
      if (id === current) healthy.unshift(id)
      else healthy.push(id)
    } else {
      unhealthy.push(id)
    }
  }
  return healthy.concat(unhealthy)
}
