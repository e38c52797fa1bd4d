// The import graph of src/ points only down the layers of docs/architecture.md, and has no
// cycle. Every file or folder at the top of src/ must be given a layer here, so a new one is a
// decision, not an accident.

import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { repoRoot } from '../helpers/repo-root.js'

// The TypeScript sources, also when this test runs compiled.
const SRC = path.join(repoRoot, 'src')

/** Lowest first. A file may import from its own layer or a lower one, never a higher one. */
export const layers: readonly string[][] = [
  ['errors.ts', 'stop-child.ts', 'package-root.ts', 'node-flags.ts', 'upstream', 'cache', 'math'],
  ['store'],
  ['geo', 'signing', 'auth', 'billing', 'balancing', 'directory', 'webhooks'],
  ['routing', 'metrics', 'http', 'config.ts', 'logging.ts'],
  ['handlers', 'resolver', 'auth-server', 'docs', 'console'],
  ['app.ts', 'gateway.ts', 'server.ts', 'demo', 'commands'],
  ['cli.ts']
]

function layerOf (file: string): number {
  const top = path.relative(SRC, file).split(path.sep)[0] ?? ''
  return layers.findIndex((names) => names.includes(top))
}

function sourceFiles (dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name)
    if (statSync(full).isDirectory()) return sourceFiles(full)
    return name.endsWith('.ts') ? [full] : []
  })
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g

/** The src files a file imports (relative specifiers only: packages are outside the graph). */
export function importsOf (file: string, text: string): string[] {
  const found: string[] = []
  for (const match of text.matchAll(IMPORT)) {
    const spec = match[1] ?? match[2]
    if (spec !== undefined) found.push(path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts'))
  }
  return found
}

const files = sourceFiles(SRC)
const graph = new Map(files.map((file) => [file, importsOf(file, readFileSync(file, 'utf8'))]))
const name = (file: string): string => path.relative(SRC, file)

t.test('every top-level file and folder of src has a layer', async (t) => {
  const unplaced = [...new Set(files.filter((f) => layerOf(f) < 0).map((f) => name(f).split(path.sep)[0]))]
  t.same(unplaced, [], 'give each a layer in this test and in docs/architecture.md')
})

t.test('no import points up a layer', async (t) => {
  const upward: string[] = []
  for (const [file, imports] of graph) {
    for (const target of imports) {
      if (!graph.has(target)) upward.push(`${name(file)} imports ${name(target)}, which does not exist`)
      else if (layerOf(target) > layerOf(file)) upward.push(`${name(file)} (layer ${layerOf(file)}) imports ${name(target)} (layer ${layerOf(target)})`)
    }
  }
  t.same(upward, [])
})

/** The strongly connected components of more than one file, or of a file importing itself. */
export function cyclesOf (edges: Map<string, string[]>): string[][] {
  let counter = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const cycles: string[][] = []
  function visit (node: string): void {
    index.set(node, counter)
    low.set(node, counter++)
    stack.push(node)
    onStack.add(node)
    for (const next of edges.get(node) ?? []) {
      if (!edges.has(next)) continue
      if (!index.has(next)) {
        visit(next)
        low.set(node, Math.min(low.get(node) ?? 0, low.get(next) ?? 0))
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) ?? 0, index.get(next) ?? 0))
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = []
      let member: string | undefined
      do {
        member = stack.pop()
        if (member === undefined) break
        onStack.delete(member)
        component.push(member)
      } while (member !== node)
      if (component.length > 1 || (edges.get(node) ?? []).includes(node)) cycles.push(component.sort())
    }
  }
  for (const node of edges.keys()) if (!index.has(node)) visit(node)
  return cycles
}

/** Pairs of top-level files or folders of src that import each other, each pair once. */
export function mutualRooms (edges: Map<string, string[]>, roomOf: (file: string) => string): string[] {
  const links = new Set<string>()
  for (const [file, imports] of edges) {
    for (const target of imports) {
      const from = roomOf(file)
      const to = roomOf(target)
      if (from !== to) links.add(`${from} → ${to}`)
    }
  }
  const mutual: string[] = []
  for (const link of links) {
    const [from = '', to = ''] = link.split(' → ')
    if (from < to && links.has(`${to} → ${from}`)) mutual.push(`${from} ⇄ ${to}`)
  }
  return mutual.sort()
}

const roomOf = (file: string): string => path.relative(SRC, file).split(path.sep)[0] ?? ''

t.test('no two top-level folders (or files) of src import each other', async (t) => {
  t.same(mutualRooms(graph, roomOf), [], 'a shared piece goes down a floor, where both can import it')
})

t.test('no import cycle', async (t) => {
  t.same(cyclesOf(graph).map((cycle) => cycle.map(name)), [])
})

t.test('the checks can fail', async (t) => {
  const edges = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['d']], ['e', ['a']]])
  t.same(cyclesOf(edges), [['a', 'b', 'c'], ['d']], 'a three-file cycle and a self-import are found')
  const file = path.join(SRC, 'store', 'x.ts')
  const imports = importsOf(file, "import type { A } from '../geo/a.js'\nexport { B } from './b.js'\nconst c = await import('../handlers/c.js')\nimport x from 'mongodb'\n")
  t.same(imports.map(name), ['geo/a.ts', 'store/b.ts', 'handlers/c.ts'])
  t.ok(layerOf(path.join(SRC, 'geo', 'a.ts')) > layerOf(file), 'store importing geo would point up')
  const rooms = new Map([[path.join(SRC, 'geo', 'a.ts'), [path.join(SRC, 'balancing', 'b.ts')]], [path.join(SRC, 'balancing', 'b.ts'), [path.join(SRC, 'geo', 'c.ts')]]])
  t.same(mutualRooms(rooms, roomOf), ['balancing ⇄ geo'], 'two folders importing each other are found')
})
