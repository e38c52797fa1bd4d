// Great-circle distance, for the nearest geo group.

const EARTH_RADIUS_KM = 6371.0088
const RAD = Math.PI / 180

/** Haversine distance in kilometres between two [lat, lon] points in degrees. */
export function greatCircleKm (aLat: number, aLon: number, bLat: number, bLon: number): number {
  const dLat = (bLat - aLat) * RAD
  const dLon = (bLon - aLon) * RAD
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(aLat * RAD) * Math.cos(bLat * RAD) * Math.sin(dLon / 2) ** 2
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)))
}

export interface Place {
  id: string
  lat: number
  lon: number
}

/**
 * For each place, every other place by great-circle distance from it, nearest first, ties by
 * id: the one order the geo fallback and node selection's nearest groups both follow.
 */
export function placesByDistance (places: readonly Place[]): Map<string, readonly string[]> {
  const order = new Map<string, readonly string[]>()
  for (const from of places) {
    const others = places
      .filter((to) => to.id !== from.id)
      .map((to) => ({ id: to.id, km: greatCircleKm(from.lat, from.lon, to.lat, to.lon) }))
      .sort((a, b) => a.km - b.km || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((to) => to.id)
    order.set(from.id, Object.freeze(others))
  }
  return order
}
