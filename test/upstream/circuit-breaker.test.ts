import t from 'tap'
import { createCircuitBreaker } from '../../src/upstream/circuit-breaker.js'

function setup (): { breaker: ReturnType<typeof createCircuitBreaker>, clock: { now: number } } {
  const clock = { now: 1_000_000 }
  const breaker = createCircuitBreaker({ failureThreshold: 3, cooldownMs: 1000, now: () => clock.now })
  return { breaker, clock }
}

t.test('opens after N consecutive failures', async (t) => {
  const { breaker } = setup()
  t.equal(breaker.state, 'closed')
  breaker.recordFailure()
  breaker.recordFailure()
  t.equal(breaker.state, 'closed')
  t.ok(breaker.canRequest())
  breaker.recordFailure()
  t.equal(breaker.state, 'open')
  t.notOk(breaker.canRequest())
})

t.test('a success resets the count: failures must be consecutive', async (t) => {
  const { breaker } = setup()
  breaker.recordFailure()
  breaker.recordFailure()
  breaker.recordSuccess()
  breaker.recordFailure()
  breaker.recordFailure()
  t.equal(breaker.state, 'closed')
})

t.test('half-opens after the cooldown and lets exactly one probe through', async (t) => {
  const { breaker, clock } = setup()
  for (let i = 0; i < 3; i++) breaker.recordFailure()
  clock.now += 999
  t.notOk(breaker.canRequest(), 'still cooling down')
  clock.now += 1
  t.ok(breaker.canRequest(), 'the probe')
  t.equal(breaker.state, 'half-open')
  t.notOk(breaker.canRequest(), 'no second request while the probe is out')
  t.notOk(breaker.canRequest())
})

t.test('refusing tells whether canRequest would refuse, without taking the probe', async (t) => {
  const { breaker, clock } = setup()
  t.notOk(breaker.refusing(), 'closed')
  for (let i = 0; i < 3; i++) breaker.recordFailure()
  t.ok(breaker.refusing(), 'open, cooling down')
  clock.now += 1000
  t.notOk(breaker.refusing(), 'the cooldown is over: a probe may go')
  t.notOk(breaker.refusing())
  t.equal(breaker.state, 'open', 'asking took no probe')
  t.ok(breaker.canRequest(), 'the probe is still there to take')
  t.ok(breaker.refusing(), 'half-open with the probe out')
})

t.test('a successful probe closes the breaker', async (t) => {
  const { breaker, clock } = setup()
  for (let i = 0; i < 3; i++) breaker.recordFailure()
  clock.now += 1000
  t.ok(breaker.canRequest())
  breaker.recordSuccess()
  t.equal(breaker.state, 'closed')
  t.ok(breaker.canRequest())
  t.ok(breaker.canRequest())
  breaker.recordFailure()
  breaker.recordFailure()
  t.equal(breaker.state, 'closed', 'the failure count started again from zero')
})

t.test('a failed probe opens the breaker for another cooldown', async (t) => {
  const { breaker, clock } = setup()
  for (let i = 0; i < 3; i++) breaker.recordFailure()
  clock.now += 1000
  t.ok(breaker.canRequest())
  clock.now += 500
  breaker.recordFailure()
  t.equal(breaker.state, 'open')
  clock.now += 999
  t.notOk(breaker.canRequest(), 'the cooldown counts from the failed probe')
  clock.now += 1
  t.ok(breaker.canRequest())
})

t.test('a probe that never reports is replaced after another cooldown', async (t) => {
  const { breaker, clock } = setup()
  for (let i = 0; i < 3; i++) breaker.recordFailure()
  clock.now += 1000
  t.ok(breaker.canRequest())
  clock.now += 999
  t.notOk(breaker.canRequest())
  clock.now += 1
  t.ok(breaker.canRequest(), 'a new probe')
})

t.test('late results while open do not change it', async (t) => {
  const { breaker } = setup()
  for (let i = 0; i < 3; i++) breaker.recordFailure()
  breaker.recordSuccess()
  t.equal(breaker.state, 'open')
  breaker.recordFailure()
  t.equal(breaker.state, 'open')
})

t.test('options are checked', async (t) => {
  t.throws(() => createCircuitBreaker({ failureThreshold: 0, cooldownMs: 1 }), TypeError)
  t.throws(() => createCircuitBreaker({ failureThreshold: 1.5, cooldownMs: 1 }), TypeError)
  t.throws(() => createCircuitBreaker({ failureThreshold: 1, cooldownMs: -1 }), TypeError)
  t.throws(() => createCircuitBreaker({ failureThreshold: 1, cooldownMs: Number.NaN }), TypeError)
})
