// docs/deploy.md shows the haproxy configuration the replicas test runs, as it is in
// deploy/haproxy/haproxy.cfg: the page and the test cannot drift apart.

import { readFileSync } from 'node:fs'
import t from 'tap'

const read = (file: string): string => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8')

t.test('docs/deploy.md holds deploy/haproxy/haproxy.cfg verbatim', async (t) => {
  const block = /```haproxy\n([\s\S]*?)```/.exec(read('docs/deploy.md'))
  t.ok(block !== null, 'a haproxy block')
  t.equal(block?.[1], read('deploy/haproxy/haproxy.cfg'))
})
