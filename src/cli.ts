/**
 * `dclab`: the headless entry point — sandbox, login, call, status, trace, logout and demo. The commands live in
 * src/cli/ (main.ts dispatches); `dclab --help` and `dclab <command> --help` print the usage.
 */
import { runCli } from './cli/main';

runCli(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
    // a socket or timer left behind by a library must not keep a finished command alive
    setTimeout(() => process.exit(code), 1500).unref();
  },
  (err: unknown) => {
    process.stderr.write(`dclab: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
