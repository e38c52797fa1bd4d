// The processes a bench run starts: each in its own process group (so stopping one also stops
// what it started, such as the embedded store's binary), optionally pinned to a core, and all
// stopped when the run ends — normally, on an error, or on Ctrl-C. A server child also gets a
// stdin pipe and leaves when it closes, so even a killed runner leaves nothing behind.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { availableParallelism } from 'node:os'

export interface Child {
  readonly name: string
  readonly pid: number
  readonly process: ChildProcess
  /** Everything it wrote so far (stdout and stderr, the last 64 kB). */
  output: () => string
  /** Its stdout alone (the last 64 kB). */
  stdout: () => string
  /** Resolves with its exit code (or signal name) once it has gone. */
  readonly exited: Promise<number | string>
  /** SIGTERM to its group; SIGKILL after graceMs. */
  stop: (graceMs?: number) => Promise<void>
}

export interface ChildOptions {
  /** Pin to this core with taskset, when pinning is possible. */
  core?: number
  /** Run at this niceness (nice -n), when the nice tool is there. */
  nice?: number
  env?: Record<string, string>
  cwd?: string
  /** Server children get a stdin pipe whose end tells them to leave; tools get none. */
  stdinPipe?: boolean
}

const live = new Set<Child>()
const outputLimit = 64 * 1024

let pinningChecked: boolean | undefined

/** Whether `taskset -c N` works here: the tool exists and the machine has two cores or more. */
export function canPin (): boolean {
  if (pinningChecked !== undefined) return pinningChecked
  if (availableParallelism() < 2) {
    pinningChecked = false
    return false
  }
  const probe = spawnSync('taskset', ['-c', '1', 'true'], { stdio: 'ignore' })
  pinningChecked = probe.error === undefined && probe.status === 0
  return pinningChecked
}

const commands = new Map<string, boolean>()

export function hasCommand (command: string): boolean {
  let found = commands.get(command)
  if (found === undefined) {
    found = spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0
    commands.set(command, found)
  }
  return found
}

export function startChild (name: string, command: string, args: readonly string[], options: ChildOptions = {}): Child {
  // nice and taskset exec what follows them, so the pid we hold is the command's own.
  const prefix: string[] = []
  if (options.nice !== undefined && hasCommand('nice')) prefix.push('nice', '-n', String(options.nice))
  if (options.core !== undefined && canPin()) prefix.push('taskset', '-c', String(options.core))
  const argv = [...prefix, command, ...args]
  const child = spawn(argv[0] as string, argv.slice(1), {
    cwd: options.cwd,
    env: { ...process.env, ...options.env, ...(options.stdinPipe === true && { BENCH_WATCH_STDIN: '1' }) },
    stdio: [options.stdinPipe === true ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    detached: true
  })
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`)
  let output = ''
  let stdout = ''
  const collect = (chunk: Buffer): void => {
    output += chunk.toString()
    if (output.length > outputLimit) output = output.slice(-outputLimit)
  }
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
    if (stdout.length > outputLimit) stdout = stdout.slice(-outputLimit)
  })
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'))
    child.once('error', (err) => resolve(`error: ${err.message}`))
  })
  const pid = child.pid
  const handle: Child = {
    name,
    pid,
    process: child,
    output: () => output,
    stdout: () => stdout,
    exited,
    async stop (graceMs = 8000) {
      if (!running(child)) {
        live.delete(handle)
        return
      }
      signalGroup(pid, 'SIGTERM')
      const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs)
      await exited
      clearTimeout(timer)
      // The leader is gone; anything it left in its group goes too.
      signalGroup(pid, 'SIGKILL')
      live.delete(handle)
    }
  }
  live.add(handle)
  void exited.then(() => { if (!running(child)) live.delete(handle) })
  return handle
}

function running (child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null
}

function signalGroup (pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // Already gone.
  }
}

/**
 * Waits until the child prints a line `BENCH_READY {json}` and returns the parsed JSON; fails
 * with its output when it exits first or takes longer than timeoutMs.
 */
export function waitForReady<T> (child: Child, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`${child.name} was not ready within ${timeoutMs} ms:\n${child.output()}`)), timeoutMs)
    const onData = (): void => {
      const match = /^BENCH_READY (.+)$/m.exec(child.output())
      if (match?.[1] === undefined) return
      try {
        finish(undefined, JSON.parse(match[1]) as T)
      } catch (err) {
        finish(err as Error)
      }
    }
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      finish(new Error(`${child.name} exited (${code ?? signal ?? '?'}) before it was ready:\n${child.output()}`))
    }
    function finish (err: Error | undefined, value?: T): void {
      clearTimeout(timer)
      child.process.stdout?.off('data', onData)
      child.process.off('exit', onExit)
      if (err !== undefined) reject(err)
      else resolve(value as T)
    }
    child.process.stdout?.on('data', onData)
    child.process.once('exit', onExit)
    onData()
  })
}

/** Stops every child still running, last started first. */
export async function stopAll (): Promise<void> {
  for (const child of [...live].reverse()) await child.stop()
}

/**
 * Ctrl-C and SIGTERM stop every child before the runner exits; a runner that exits any other
 * way kills what is left at once.
 */
export function stopChildrenOnExit (log: (line: string) => void): void {
  let stopping = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return
    stopping = true
    log(`${signal}: stopping the bench processes`)
    void stopAll().finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  process.once('exit', () => {
    for (const child of live) signalGroup(child.pid, 'SIGKILL')
  })
}
