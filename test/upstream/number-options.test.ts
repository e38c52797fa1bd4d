import t from 'tap'
import { nonNegativeNumber, positiveInteger, positiveNumber } from '../../src/upstream/number-options.js'

t.test('a number option is returned when it fits, refused with its name and value when not', async (t) => {
  t.equal(positiveNumber('timeoutMs', 0.5), 0.5)
  for (const bad of [0, -1, Number.NaN, Infinity, '5' as unknown as number]) {
    t.throws(() => positiveNumber('timeoutMs', bad), { name: 'TypeError', message: `timeoutMs must be a positive number, got ${String(bad)}` })
  }
  t.equal(nonNegativeNumber('denyTtlMs', 0), 0)
  t.throws(() => nonNegativeNumber('denyTtlMs', -1), { name: 'TypeError', message: /denyTtlMs must be a number, 0 or more, got -1/ })
  t.throws(() => nonNegativeNumber('denyTtlMs', Infinity), TypeError)
  t.equal(positiveInteger('max', 3), 3)
  t.throws(() => positiveInteger('max', 1.5), { message: /max must be a whole number, 1 or more, got 1.5/ })
  t.throws(() => positiveInteger('max', 0), TypeError)
  t.equal(positiveInteger('bytes', 200, 200), 200, 'a floor of its own')
  t.throws(() => positiveInteger('bytes', 199, 200), { message: /bytes must be a whole number, 200 or more/ })
})
