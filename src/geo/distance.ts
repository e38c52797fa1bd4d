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
