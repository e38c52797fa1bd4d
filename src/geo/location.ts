// Where a client is, as the resolver and the local MaxMind fallback both answer it.

export interface IPLocation {
  /** ISO 3166-1 alpha-2, upper case; null when unknown. */
  country_code: string | null
  /** ISO 3166-2 such as 'RU-MOW'; null when unknown. */
  region_iso: string | null
  city: string | null
  /** [lat, lon]; null when unknown. */
  coordinates: [number, number] | null
  /**
   * True when MaxMind knows only the country and the coordinates are its centre. Such an
   * answer must not pick a group by distance.
   */
  country_only?: boolean
  /** The client's autonomous system number, when an ASN database or provider knows it. */
  asn?: number | null
}

export type LocationSource = 'cache' | 'resolver' | 'fallback'
