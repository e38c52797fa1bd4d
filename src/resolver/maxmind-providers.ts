// The MaxMind databases as location providers for the resolver's chain: the City database
// answers where, the ASN database only which network.

import type { AsnInfo, LocationLookup } from '../geo/maxmind-lookup.js'
import type { LocationProvider, ProviderAnswer } from './provider-chain.js'

export function cityProvider (city: Pick<LocationLookup, 'lookup'>): LocationProvider {
  // One answer object per location: the database shares locations per network.
  const answers = new WeakMap<object, ProviderAnswer>()
  return {
    name: 'maxmind-city',
    locate (ip) {
      const location = city.lookup(ip)
      if (location === null) return null
      let answer = answers.get(location)
      if (answer === undefined) {
        answer = { location }
        answers.set(location, answer)
      }
      return answer
    }
  }
}

export function asnProvider (asn: { lookup: (ip: string) => AsnInfo | null }): LocationProvider {
  return {
    name: 'maxmind-asn',
    locate (ip) {
      const network = asn.lookup(ip)
      return network === null ? null : { location: null, asn: network.asn, org: network.org }
    }
  }
}
