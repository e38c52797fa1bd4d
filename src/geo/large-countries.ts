// Countries too large for their country-only point to say where a client is.
//
// When GeoLite2 knows only a client's country it gives one fixed point for the whole country.
// For most countries that point is the capital or the main city (Moscow for RU, Toronto for
// CA, Rio for BR, Zhengzhou for CN), near most of their clients: the group nearest it is a fair
// guess. For the countries below it is a geographic centre far from most of their people (the
// US point is a farm in Kansas, 1,800 km from either coast; Traffic Control issue 4912): the
// group nearest it would draw every such client of the country to itself. For these, the
// groups inside the country share its country-only clients instead (see matchGeoGroup).
//
// "Inside" is a rough box per country, [south, west, north, east] in degrees: only good enough
// to tell whether a group's coordinates are in that country and not in a neighbour's.

export type Box = readonly [south: number, west: number, north: number, east: number]

export const largeCountries: ReadonlyMap<string, readonly Box[]> = new Map<string, readonly Box[]>([
  // The contiguous states, in three boxes so that Canada's cities by the Great Lakes and the
  // St Lawrence (Toronto 43.7 N 79.4 W, Ottawa, Montreal) fall outside.
  ['US', [[24.4, -125.0, 49.0, -82.5], [24.4, -82.5, 41.5, -66.9], [41.5, -75.5, 45.0, -66.9]]],
  ['AU', [[-43.7, 112.9, -10.6, 153.7]]],
  ['IN', [[6.7, 68.1, 35.7, 97.4]]],
  ['KZ', [[40.5, 46.5, 55.5, 87.4]]]
])

/** Whether lat/lon falls in one of the boxes. */
export function insideBoxes (boxes: readonly Box[], lat: number, lon: number): boolean {
  for (const [south, west, north, east] of boxes) {
    if (lat >= south && lat <= north && lon >= west && lon <= east) return true
  }
  return false
}
