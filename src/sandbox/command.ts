// `dclab sandbox`: runs the multi-DC sandbox in the foreground until SIGINT/SIGTERM (options in SANDBOX_USAGE).
// DC n listens on P + n (default P = 20440 → 20441..20445; 0 = ephemeral ports). Prints the listeners, the RSA
// fingerprint and public key, and every login code as it is "delivered" (the sandbox's inbox).
import { readFileSync } from 'node:fs';
import { CONFIG_TTL_S } from './config';
import {
  DEFAULT_BASE_PORT,
  DEFAULT_IDLE_TIMEOUT_S,
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  DEFAULT_SALT_PERIOD_S,
  startSandbox,
  type SandboxOptions,
} from './index';

export const SANDBOX_USAGE = `usage: dclab sandbox [--host H] [--base-port P] [--info-file F] [--data-dir D] [--nearest-dc N]
                     [--latency DC:MS]... [--schema LAYER:FILE.tl]... [--no-ipv6]
                     [--salt-period S] [--idle-timeout S] [--max-connections-per-address N]
                     [--config-expires S] [--no-flood-limits]
       dclab sandbox ctl --sandbox-info F ACTION [ARGS]     drive a running sandbox (see dclab sandbox ctl --help)
  DC n listens on P+n (default P=${DEFAULT_BASE_PORT}: ${DEFAULT_BASE_PORT + 1}..${DEFAULT_BASE_PORT + 5}; 0 = ephemeral ports)
  --salt-period S       server salts change every S seconds (default ${DEFAULT_SALT_PERIOD_S})
  --idle-timeout S      close a connection after S seconds without a packet from the client (default ${DEFAULT_IDLE_TIMEOUT_S}; 0 = never)
  --max-connections-per-address N   live connections per remote address and DC; the next gets transport
                        error -429 (default ${DEFAULT_MAX_CONNECTIONS_PER_ADDRESS}; 0 = no limit)
  --config-expires S    help.getConfig answers expire after S seconds (default ${CONFIG_TTL_S})
  --no-flood-limits     no login flood limits (default: 5 unused codes, 5 wrong codes, 5 wrong passwords per 60 s)
  The info file (mode 0600) also holds the control channel's address and token, for \`dclab sandbox ctl\`.
  test numbers 99966XYYYY (X=1..5) live on DC X, code XXXXX; 99966X9YYY have the 2FA password "sandbox"`;

export class SandboxUsageError extends Error {}

export interface ParsedSandboxArgs extends SandboxOptions {
  help?: boolean;
  schemaFiles: { layer: number; file: string }[];
}

function intArg(flag: string, v: string | undefined, min: number, max: number): number {
  if (v === undefined || !/^-?\d+$/.test(v)) throw new SandboxUsageError(`${flag} needs an integer`);
  const n = Number(v);
  if (n < min || n > max) throw new SandboxUsageError(`${flag} must be ${min}..${max}, got ${n}`);
  return n;
}

function textArg(flag: string, v: string | undefined, what: string): string {
  if (!v) throw new SandboxUsageError(`${flag} needs ${what}`);
  return v;
}

function pairArg(flag: string, v: string | undefined): [string, string] {
  const i = v?.indexOf(':') ?? -1;
  if (!v || i <= 0 || i === v.length - 1) throw new SandboxUsageError(`${flag} needs A:B, got ${v ?? 'nothing'}`);
  return [v.slice(0, i), v.slice(i + 1)];
}

export function parseSandboxArgs(argv: string[]): ParsedSandboxArgs {
  const out: ParsedSandboxArgs = { schemaFiles: [] };
  const latency: Record<number, number> = {};
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const eq = raw.startsWith('--') ? raw.indexOf('=') : -1;
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    const value = (): string | undefined => (eq > 0 ? raw.slice(eq + 1) : argv[++i]);
    switch (flag) {
      case '-h':
      case '--help':
        out.help = true;
        break;
      case '--host':
        out.host = textArg(flag, value(), 'an address');
        break;
      case '--base-port':
        out.basePort = intArg(flag, value(), 0, 65530);
        break;
      case '--info-file':
        out.infoFile = textArg(flag, value(), 'a path');
        break;
      case '--data-dir':
        out.dataDir = textArg(flag, value(), 'a path');
        break;
      case '--nearest-dc':
        out.nearestDc = intArg(flag, value(), 1, 5);
        break;
      case '--latency': {
        const [dc, ms] = pairArg(flag, value());
        latency[intArg('--latency DC', dc, 1, 5)] = intArg('--latency MS', ms, 0, 60_000);
        break;
      }
      case '--schema': {
        const [layer, file] = pairArg(flag, value());
        out.schemaFiles.push({ layer: intArg('--schema LAYER', layer, 1, 100_000), file });
        break;
      }
      case '--no-ipv6':
        out.ipv6 = false;
        break;
      case '--salt-period':
        out.saltPeriodSeconds = intArg(flag, value(), 1, 10 * 365 * 86_400);
        break;
      case '--idle-timeout':
        out.idleTimeoutSeconds = intArg(flag, value(), 0, 365 * 86_400);
        break;
      case '--max-connections-per-address':
        out.maxConnectionsPerAddress = intArg(flag, value(), 0, 1_000_000);
        break;
      case '--config-expires':
        out.configExpiresSeconds = intArg(flag, value(), 1, 10 * 365 * 86_400);
        break;
      case '--no-flood-limits':
        out.floodLimits = false;
        break;
      default:
        throw new SandboxUsageError(`unknown argument: ${raw}`);
    }
  }
  if (Object.keys(latency).length) out.latencyMs = latency;
  return out;
}

export async function runSandboxCommand(argv: string[]): Promise<void> {
  let args: ParsedSandboxArgs;
  try {
    args = parseSandboxArgs(argv);
  } catch (e) {
    if (e instanceof SandboxUsageError) {
      process.stderr.write(`dclab sandbox: ${e.message}\n${SANDBOX_USAGE}\n`);
      process.exitCode = 2;
      return;
    }
    throw e;
  }
  if (args.help) {
    process.stdout.write(`${SANDBOX_USAGE}\n`);
    return;
  }
  const { schemaFiles, help: _help, ...opts } = args;
  opts.extraSchemas = schemaFiles.map((s) => ({ layer: s.layer, text: readFileSync(s.file, 'utf8') }));
  const stamp = (): string => new Date().toISOString().slice(11, 23);
  opts.log = (line) => process.stdout.write(`${stamp()} ${line}\n`);
  const sandbox = await startSandbox(opts);
  process.stdout.write(`${stamp()} sandbox ready (Ctrl+C to stop)\n`);
  await new Promise<void>((resolve) => {
    const onSignal = (sig: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.stdout.write(`${stamp()} ${sig}: stopping\n`);
      sandbox.stop().then(resolve, resolve);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
