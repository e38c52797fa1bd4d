// The `geogate` command: one binary, one process role per subcommand.

import { ConfigError, configHelp, loadConfig, type Config } from './config.js'
import { createAuthService } from './commands/auth-server.js'
import { runDev } from './commands/dev.js'
import { adminUsage, runAdminCommand } from './commands/admin.js'
import { createResolverService } from './commands/resolver.js'
import { runTokenCommand, tokenUsage, UsageError } from './commands/token.js'
import { createGateway, signingKeysOf } from './gateway.js'
import { closeOnSignal, PortError, portErrorOf, stopAccepting } from './server.js'
import { listenWithMetrics, metricsPortFor, type Listening } from './commands/metrics-listener.js'
import type { FastifyInstance } from 'fastify'
import { connectStore, ensureIndexes } from './store/mongo.js'

const usage = `geogate — geo-balancing stream redirect gateway

usage: geogate <command>

commands:
  dev           everything in one process: embedded store with demo data, resolver,
                auth-server and gateway (what \`npm start\` runs)
  gateway       the stateless gateway (needs MONGODB_URL)
  resolver      the geo-resolver service
  auth-server   the auth-server (needs MONGODB_URL)
  token         create or revoke access tokens (needs MONGODB_URL)
  admin         the admin API of a running gateway (GEOGATE_URL, GEOGATE_TOKEN)

${tokenUsage}
${adminUsage}
environment:
${configHelp()}
`

function log (line: string): void {
  process.stderr.write(`geogate: ${line}\n`)
}

function requireMongo (config: Config, command: string): string {
  if (config.mongodbUrl === undefined) throw new ConfigError([`MONGODB_URL: required by \`geogate ${command}\``])
  return config.mongodbUrl
}

function metricsOf (config: Config): { host: string, port: Config['metricsPort'] } {
  return { host: config.metricsHost, port: config.metricsPort }
}

/** Listens on the port `setting` names, and /metrics where METRICS_PORT says; a port in use is named by its setting. */
async function listenAs (app: FastifyInstance, config: Config, setting: string, port: number): Promise<Listening> {
  return await listenWithMetrics(app, config.host, port, metricsOf(config)).catch((err: unknown) => {
    throw portErrorOf(err, [[setting, port], ['METRICS_PORT', metricsPortFor(config.metricsPort, port)]])
  })
}

function listening (role: string, at: { url: string, metricsUrl: string }): string {
  return `${role} listening on ${at.url} (metrics: ${at.metricsUrl})`
}

async function main (argv: string[]): Promise<void> {
  const command = argv[0]
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(usage)
    return
  }
  if (command === 'admin') {
    // A client of a running gateway: it needs none of the gateway's own settings.
    process.exitCode = await runAdminCommand(argv.slice(1), {
      env: process.env,
      out: (line) => process.stdout.write(`${line}\n`),
      err: (line) => process.stderr.write(`${line}\n`)
    })
    return
  }
  const config = loadConfig(process.env)
  switch (command) {
    case 'dev':
      await runDev(config, process.env)
      return
    case 'resolver': {
      const app = await createResolverService(config)
      log(listening('resolver', await listenAs(app, config, 'RESOLVER_PORT', config.resolverPort)))
      closeOnSignal([() => app.close()], log)
      return
    }
    case 'auth-server': {
      const store = await connectStore({ url: requireMongo(config, command), database: config.mongodbDatabase, appName: 'geogate-auth' })
      const app = await createAuthService(config, store)
      log(listening('auth-server', await listenAs(app, config, 'AUTH_SERVER_PORT', config.authServerPort)))
      closeOnSignal([() => store.close(), () => app.close()], log)
      return
    }
    case 'gateway': {
      // Settings first: a bad one is reported before anything is opened.
      signingKeysOf(config)
      const store = await connectStore({ url: requireMongo(config, command), database: config.mongodbDatabase, appName: 'geogate-gateway' })
      await ensureIndexes(store.collections)
      const gateway = await createGateway({ config, store })
      log(listening('gateway', await listenAs(gateway.app, config, 'GATEWAY_PORT', config.gatewayPort)))
      closeOnSignal([() => store.close(), gateway.close, () => stopAccepting(gateway.app)], log, 10_000, { begin: gateway.drain, graceMs: config.drainGraceMs })
      return
    }
    case 'token': {
      const store = await connectStore({ url: requireMongo(config, command), database: config.mongodbDatabase, appName: 'geogate-cli' })
      try {
        await runTokenCommand(argv.slice(1), store, Date.now, (line) => process.stdout.write(`${line}\n`))
      } finally {
        await store.close()
      }
      return
    }
    default:
      process.stderr.write(`geogate: unknown command ${JSON.stringify(command)}\n\n${usage}`)
      process.exitCode = 2
  }
}

// A setting or usage mistake is found before anything is opened: exit once stderr has the
// message. Anything else may leave handles open: exit as soon as the message is written.
main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true) {
    process.stderr.write(`geogate: ${(err as Error).message}\n\n${tokenUsage}`)
    process.exitCode = 2
    return
  }
  // A port in use: one line naming its setting; what was opened may still hold the process.
  if (err instanceof PortError) {
    process.stderr.write(`geogate: ${err.message}\n`, () => process.exit(1))
    return
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`geogate: ${err.message}\n`)
    process.exitCode = 2
    return
  }
  process.stderr.write(`geogate: ${(err as Error).stack ?? String(err)}\n`, () => process.exit(1))
})
