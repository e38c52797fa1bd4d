// The child side of gateway-process.ts.

import type { Config } from '../../src/config.js'
import { createGateway } from '../../src/gateway.js'
import { connectStore } from '../../src/store/mongo.js'

const { config, store: where } = JSON.parse(process.env.GEOGATE_TEST_GATEWAY ?? '{}') as { config: Config, store: { url: string, database: string } }
const store = await connectStore({ url: where.url, database: where.database })
const gateway = await createGateway({ config, store, defaultMetrics: false })
const url = await gateway.app.listen({ host: '127.0.0.1', port: 0 })
const gc = (globalThis as { gc?: () => void }).gc
process.on('message', () => {
  // Twice: what a first collection frees can leave more for a second (weak references, finalizers).
  gc?.()
  gc?.()
  process.send?.({ heapUsed: process.memoryUsage().heapUsed })
})
process.on('SIGTERM', () => {
  gateway.close().then(() => store.close()).finally(() => process.exit(0))
})
process.send?.({ url })
