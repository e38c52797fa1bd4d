import { readFileSync } from 'node:fs'
function selfBy(file) {
  const p = JSON.parse(readFileSync(file))
  const byId = new Map(p.nodes.map(n => [n.id, n]))
  const self = new Map()
  const dt = p.timeDeltas
  const counts = new Map()
  for (let i = 0; i < p.samples.length; i++) counts.set(p.samples[i], (counts.get(p.samples[i]) ?? 0) + (dt[i] ?? 0))
  for (const [id, us] of counts) { const n = byId.get(id); const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/.*node_modules\//,'').replace('file:///work/main/','')}:${n.callFrame.lineNumber}`; self.set(k, (self.get(k) ?? 0) + us) }
  return self
}
const [a, b] = process.argv.slice(2).map(selfBy)
const keys = new Set([...a.keys(), ...b.keys()])
const rows = [...keys].map(k => [k, ((b.get(k) ?? 0) - (a.get(k) ?? 0)) / 1000]).sort((x, y) => y[1] - x[1])
for (const [k, d] of rows.slice(0, 40)) console.log(d.toFixed(1).padStart(8), k)
