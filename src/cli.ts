/**
 * `dclab`: the headless entry point. In this issue it runs the embedded sandbox and a demo login that follows a
 * PHONE_MIGRATE by hand with the protocol core; the lifecycle issue grows it into login/call/status/trace.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSandboxCommand } from './sandbox/command';
import { runDemo } from './demo';

const USAGE = `dclab — MTProto DC Lab command line

Commands:
  dclab sandbox [--host H] [--base-port P] [--info-file F] [--data-dir D] [--nearest-dc N]
                [--latency DC:MS]... [--schema LAYER:FILE.tl]...
        Run the multi-DC MTProto sandbox (DC n listens on P+n) until interrupted.
  dclab demo [--transport abridged|intermediate|padded|full] [--phone 99966XYYYY]
        Start an embedded sandbox, log in through a PHONE_MIGRATE, transfer the authorization to a third DC,
        and print the wire-level trace.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'sandbox':
      await runSandboxCommand(rest);
      return 0;
    case 'demo': {
      const dataDir = mkdtempSync(join(tmpdir(), 'dclab-demo-'));
      try {
        return await runDemo(rest, dataDir, (line) => process.stdout.write(line + '\n'));
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
    default:
      process.stderr.write(`dclab: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`dclab: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
