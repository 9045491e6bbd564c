// Runs `dclab` as real processes (node --import tsx src/cli.ts …) and an attached `dclab sandbox` child.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { runCli } from '../../src/cli/main';

export const ROOT = resolve(__dirname, '..', '..');
const CLI = resolve(ROOT, 'src/cli.ts');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function dclab(args: string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`dclab ${args.join(' ')} timed out\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, opts.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

export interface SandboxChild {
  child: ChildProcess;
  /** Everything the sandbox printed so far. */
  log(): string;
  stop(): Promise<void>;
}

export async function startSandboxProcess(infoFile: string, dataDir: string): Promise<SandboxChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'sandbox', '--base-port', '0', '--no-ipv6', '--info-file', infoFile, '--data-dir', dataDir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const deadline = Date.now() + 20_000;
  while (!out.includes('sandbox ready') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
  if (!out.includes('sandbox ready')) {
    child.kill('SIGKILL');
    throw new Error(`dclab sandbox did not start:\n${out}`);
  }
  return {
    child,
    log: () => out,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export function readJson(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

/** Runs a dclab command in this process (runCli with captured output) — for the steps that need no new process. */
export async function dclabIn(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  const stdin = new PassThrough();
  if (opts.input !== undefined) stdin.end(opts.input);
  else stdin.end();
  const r = { code: null as number | null, stdout: '', stderr: '' };
  r.code = await runCli(args, {
    out: (t) => void (r.stdout += t),
    err: (t) => void (r.stderr += t),
    stdin,
    env: { ...opts.env },
    interactive: false,
  });
  return r;
}
