// The dclab dispatcher: parses the command line, runs one command and maps the outcome to an exit code
// (0 ok, 1 failure, 2 usage). Errors print their message only (no stack, never a secret: no value we print
// comes from the secrets store).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSandboxCommand } from '../sandbox/command';
import { runDemo } from './demo';
import { parseArgs, UsageError, type FlagSpecs, type ParsedArgs } from './args';
import { CALL_FLAGS, runCall } from './call';
import { CliContext, COMMON_FLAGS, parseCommon } from './context';
import { runSandboxCtl } from './ctl';
import { DOWNLOAD_FLAGS, HISTORY_FLAGS, runDownload, runHistory, runUpload, UPLOAD_FLAGS } from './files';
import { processIo, type CliIo } from './io';
import { LOGIN_FLAGS, runLogin } from './login';
import { LOGOUT_FLAGS, runLogout } from './logout';
import { RUN_FLAGS, runRun } from './run';
import { runStatus, STATUS_FLAGS } from './status';
import { runTrace, TRACE_FLAGS } from './trace';
import { commandUsage, USAGE } from './usage';

interface Command {
  flags: FlagSpecs;
  maxPositionals: number;
  run(ctx: CliContext, p: ParsedArgs): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  login: { flags: LOGIN_FLAGS, maxPositionals: 0, run: runLogin },
  call: { flags: CALL_FLAGS, maxPositionals: 2, run: runCall },
  status: { flags: STATUS_FLAGS, maxPositionals: 0, run: runStatus },
  trace: { flags: TRACE_FLAGS, maxPositionals: 0, run: runTrace },
  logout: { flags: LOGOUT_FLAGS, maxPositionals: 0, run: runLogout },
  download: { flags: DOWNLOAD_FLAGS, maxPositionals: 0, run: runDownload },
  upload: { flags: UPLOAD_FLAGS, maxPositionals: 1, run: runUpload },
  history: { flags: HISTORY_FLAGS, maxPositionals: 0, run: runHistory },
  run: { flags: RUN_FLAGS, maxPositionals: 1, run: runRun },
};

export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
        io.err(USAGE);
        return 2;
      case 'help':
      case '--help':
      case '-h': {
        const topic = rest[0];
        io.out(topic && (COMMANDS[topic] || topic === 'demo' || topic === 'sandbox') ? commandUsage(topic) : USAGE);
        return 0;
      }
      case 'sandbox':
        if (rest[0] === 'ctl') return await runSandboxCtl(rest.slice(1), io);
        await runSandboxCommand([...rest]);
        return typeof process.exitCode === 'number' ? process.exitCode : 0;
      case 'demo':
        return await demo(rest, io);
      default:
        break;
    }
    const cmd = COMMANDS[command];
    if (!cmd) throw new UsageError(`unknown command "${command}"`);
    const parsed = parseArgs(command, rest, { ...COMMON_FLAGS, ...cmd.flags }, { maxPositionals: cmd.maxPositionals });
    if (parsed.flags.get('--help') === true) {
      io.out(commandUsage(command));
      return 0;
    }
    const ctx = new CliContext(io, parseCommon(parsed, command), command);
    try {
      return await cmd.run(ctx, parsed);
    } finally {
      await ctx.close();
    }
  } catch (e) {
    if (e instanceof UsageError) {
      const cmd = e.command ?? (command && COMMANDS[command] ? command : undefined);
      io.err(`dclab${cmd ? ` ${cmd}` : ''}: ${e.message}\n${cmd ? `(see dclab ${cmd} --help)` : USAGE}\n`);
      return 2;
    }
    io.err(`dclab${command ? ` ${command}` : ''}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

async function demo(argv: string[], io: CliIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(commandUsage('demo'));
    return 0;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'dclab-demo-'));
  try {
    return await runDemo(argv, dataDir, (line) => io.out(`${line}\n`));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
