// Usage texts: `dclab --help` and `dclab <command> --help`.
import { DEFAULT_BASE_PORT } from '../sandbox';
import { SANDBOX_USAGE } from '../sandbox/command';

export const COMMON_USAGE = `Common options (every command except sandbox and demo):
  --profile sandbox|test|production|custom:<name>   which DCs (default sandbox)
  --data-dir D         storage root (default ~/.dclab): D/state.json (plain) and D/secrets.json (auth keys,
                       api_hash), both mode 0600; D/sandbox holds the embedded sandbox's RSA key
  --sandbox-info F     attach to a running \`dclab sandbox --info-file F\` (sandbox profile)
  --sandbox-port P     base port of the embedded sandbox (default ${DEFAULT_BASE_PORT}: DCs on ${DEFAULT_BASE_PORT + 1}..${DEFAULT_BASE_PORT + 5}; 0 = ephemeral)
  --transport abridged|intermediate|padded|full     (default intermediate)
  --api-id N, --api-hash-stdin                      test/production/custom credentials (api_hash also from
                       the env var DCLAB_API_HASH); stored for later commands, the api_hash in secrets.json
  --dc-address ID=HOST:PORT (repeat), --rsa-pem FILE, --test-mode    define a custom:<name> profile (stored)

The sandbox, embedded or attached:
  * Attached (--sandbox-info F): the sandbox runs in another process (\`dclab sandbox --info-file F\`), so its
    world (users, authorizations, auth keys) outlives each command. A login persists: later commands in new
    processes resume on the home DC with the stored keys, no new login and no new key. This is the way to use
    the CLI across several commands, and to share one sandbox with the extension and other clients.
  * Embedded (sandbox profile without --sandbox-info): each command that needs the network starts an in-process
    sandbox on the stable ports above (RSA key reused from D/sandbox) and stops it when the command ends. Its
    world dies with the process: \`dclab login\` works (codes read from its inbox), but the next command meets a
    fresh world, so the stored login of an embedded run is reported by \`status\` and then dropped (with a
    notice) by the next command that connects. Use it for one-shot experiments; \`dclab demo\` shows a whole run.
  Stored sandbox state remembers which world it belongs to; talking to a different one drops it first.`;

export const COMMAND_USAGE: Record<string, string> = {
  login: `usage: dclab login --phone P [--code C] [--password-stdin] [--sandbox-password] [--first-name F [--last-name L]] [--json] [common options]
  Log in (auth.sendCode → signIn → 2FA / sign-up as needed), following PHONE_MIGRATE / NETWORK_MIGRATE to the
  phone's home DC; prints the redirect chain as it happens, then the home DC and the user.
  The code: --code C, else (sandbox) read from the embedded sandbox's inbox, or for test numbers 99966XYYYY on an
  attached sandbox derived by rule (X repeated, length from auth.sentCode), else prompted on the terminal.
  The 2FA password: --password-stdin (first line of stdin), else (sandbox) "sandbox" for 99966X9YYY numbers in
  the embedded sandbox or with --sandbox-password, else prompted without echo. Codes and passwords are never
  printed or stored. With both --api-hash-stdin and --password-stdin, stdin's first line is the api_hash and the
  second the password. A new number (sign-up) takes --first-name/--last-name or prompts.`,
  call: `usage: dclab call METHOD ['JSON'] [--dc N] [--json] [--verbose] [common options]
  Invoke an API method, e.g. dclab call users.getUsers '{"id":[{"_":"inputUserSelf"}]}'.
  JSON holds the method's parameters (long as decimal strings, bytes as base64); they are checked against the
  schema (layer 227) first — a wrong field names its path and the expected type (exit 2). Runs on the home DC, or
  DC N with --dc (the authorization is transferred there first). Prints the result as pretty JSON (--json: one
  line) on stdout with secrets (auth keys, exported authorization bytes, tokens) redacted, and the call's trace
  chain on stderr (--verbose: every step as it happens; FLOOD_WAIT countdowns are always shown).`,
  status: `usage: dclab status [--json] [--ping] [common options]
  The stored state of the profile: home DC, user id, per DC whether an auth key is stored (and when it was made)
  and whether it is authorized. Makes no connection and no handshake (it does not even start the embedded
  sandbox). --ping connects to each DC that has a stored key, with that key only (never a new one), and adds
  connected/latency (exit 1 when a DC with a stored key does not answer).`,
  trace: `usage: dclab trace [--json] [--last N] [--no-details] [--machines] [common options]
  The session's trace (from the last login on, every command appending to it) as a timeline of chains
  (\`auth.sendCode @DC2 → PHONE_MIGRATE_4 → connect DC4 → auth key DC4 (3 round trips) → …\`), or --json: the
  trace export JSON. --last N keeps the last N events; --no-details prints only the chain lines; --machines keeps
  the XState transitions of the client and session actors (hidden by default). Reads the store only; \`login\`,
  \`call\`, \`logout\` and \`status --ping\` append to the trace, \`status\` and \`trace\` never write.`,
  logout: `usage: dclab logout [--local | --forget-keys] [common options]
  auth.logOut on every authorized DC, then forget the profile's login (keys, home DC, user; api_id/api_hash are
  kept). --local only forgets, without contacting the server. --forget-keys also asks every DC that holds one of
  the keys to destroy it (destroy_auth_key) before it is forgotten here.`,
  download: `usage: dclab download --dc N --location 'JSON' --out FILE [--size S] [--no-cdn] [--parallel K] [--resume] [--force] [--sha256 HEX] [--json] [--verbose] [common options]
  Download a file from its DC: N is the file's dc_id and JSON its InputFileLocation (long as decimal strings, bytes
  as base64), both printed by \`dclab history\`, e.g.
    dclab download --dc 3 --size 1585209 --out medium.bin --location '{"_":"inputDocumentFileLocation","id":"7100000000000000002",…}'
  The JSON is checked against the schema first (a wrong field names its path and the expected type: exit 2). The
  authorization is transferred to DC N when needed, FILE_MIGRATE is followed, and a CDN redirect is followed with
  hash checks (--no-cdn: never ask for the CDN). --size S (bytes) plans the exact parts; without it the download
  stops at the first short part. --parallel K requests in flight. Progress (bytes, %, MB/s, DC) on stderr; the last
  line on stdout: bytes, sha256, the DCs used (incl. the CDN), ms. --sha256 HEX verifies before FILE appears.
  Bytes go to FILE.part (+ FILE.part.json); FILE appears only when complete. Ctrl+C aborts (exit 130) and keeps
  both; the same command with --resume continues them (without --resume a new download starts over). An existing
  FILE is kept (exit 1) unless --force; a second download to the same FILE, from any process, is refused while the
  first runs; the free disk space is checked first (and watched when the size is unknown). The chain (transfer,
  redirects, parts) is appended to the session trace (\`dclab trace\`).`,
  upload: `usage: dclab upload FILE [--send] [--photo] [--name N] [--mime-type T] [--caption C] [--parallel K] [--json] [--verbose] [common options]
  Upload FILE in parts to the home DC (upload.saveFilePart up to 10 MiB, upload.saveBigFilePart above), with
  progress on stderr. --send then sends it to Saved Messages (messages.sendMedia to inputPeerSelf; as a document,
  or --photo) and prints its message id, dc_id and location JSON, ready for \`dclab download\`. Without --send it
  prints the InputFile (the parts are kept by the server only until used).`,
  history: `usage: dclab history [--json] [--limit N] [common options]
  The media in Saved Messages (messages.getHistory on inputPeerSelf, newest first): message id, kind, dc_id, size,
  name, and the location JSON to paste into \`dclab download --dc <dc_id> --location '<JSON>'\`. --json: an
  array of { messageId, date, kind, name, size, dcId, location }.`,
  run: `usage: dclab run FILE [--env NAME] [--request N | --title TEXT] [--dc N] [--schema FILE.tl] [--json] [--continue-on-error] [--verbose] [common options]
  Run the requests of a request file (FILE.mtproto: requests separated by ### lines, each a method name and a JSON
  body, optional @dc N / @profile NAME lines before the method, variables {{name}} from @name = value lines, from
  earlier results (@me = {{response[0].id}} after a body) and from dclab.env.json; see src/reqfile/README.md).
  The file is checked against the schema (layer 227) first: problems are printed as FILE:LINE:COL: error: message
  and nothing is sent (exit 2). Then the requests run in order on the routed client, like \`dclab call\`: each
  prints \`### [k] method @DCn → ok (12 ms)\` and the result as pretty JSON (secrets redacted) on stdout, its trace
  chain on stderr. --env NAME: the environment of the nearest dclab.env.json ("$shared" always applies).
  --request N / --title TEXT: run one request (N counts from 1). --dc N: every request on DC N (overrides @dc).
  --schema FILE.tl: check against that schema instead of the bundled layer (merged over the MTProto service
  schema; checking only — calls are still encoded with layer 227).
  --json: one JSON array of results on stdout instead. The run stops at the first failure unless
  --continue-on-error. Exit 0 all ok, 1 a request failed (rpc error), 2 file or validation errors.`,
  demo: `usage: dclab demo [--phone 99966XYYYY] [--transport T] [--wire] [--details] [--machines] [--core]
  On an embedded sandbox (ephemeral ports, temporary data dir) a scripted run of the lifecycle: login with a number
  of another DC (PHONE_MIGRATE), a call on a third DC (transfer: export/import authorization), a USER_MIGRATE
  (the sandbox moves the user) and its recovery; then the trace timeline and a status table.
  --wire adds the wire-level timeline; --details the events of each chain; --machines the XState transitions;
  --core runs the issue-2 demo that follows the redirect by hand.`,
  sandbox: SANDBOX_USAGE,
};

export const USAGE = `dclab — MTProto DC Lab command line

Commands:
  dclab sandbox [--base-port P] [--info-file F] [--data-dir D] ...   run the multi-DC sandbox until Ctrl+C
  dclab sandbox ctl --sandbox-info F ACTION [ARGS]                    faults on demand in a running sandbox
  dclab login --phone P [--code C] [--password-stdin]                 log in (follows PHONE_MIGRATE)
  dclab call METHOD ['JSON'] [--dc N] [--json]                         invoke an API method
  dclab status [--json] [--ping]                                       stored state; no handshake
  dclab trace [--json] [--last N]                                      the session's trace timeline
  dclab logout [--local | --forget-keys]                               log out and forget the login
  dclab history [--json]                                               Saved Messages media: dc_id, location JSON
  dclab download --dc N --location 'JSON' --out FILE [--resume]        download a file from its DC (CDN, resume)
  dclab upload FILE [--send]                                           upload a file (and send it to Saved Messages)
  dclab run FILE.mtproto [--env NAME] [--request N] [--json]           run a request file (checked against the schema first)
  dclab demo [--wire] [--core]                                         scripted lifecycle run on an embedded sandbox
  dclab <command> --help                                               details

Exit codes: 0 ok, 1 failure, 2 usage error.

${COMMON_USAGE}

Typical session (two terminals):
  dclab sandbox --info-file /tmp/dclab-sandbox.json
  dclab login --phone 9996641234 --sandbox-info /tmp/dclab-sandbox.json
  dclab status --sandbox-info /tmp/dclab-sandbox.json
  dclab call users.getUsers '{"id":[{"_":"inputUserSelf"}]}' --sandbox-info /tmp/dclab-sandbox.json
  dclab history --sandbox-info /tmp/dclab-sandbox.json
  dclab download --dc 3 --size 1585209 --location '<JSON from history>' --out /tmp/m.bin --sandbox-info /tmp/dclab-sandbox.json
  dclab trace
`;

export function commandUsage(command: string): string {
  const u = COMMAND_USAGE[command];
  if (!u) return USAGE;
  return command === 'sandbox' || command === 'demo' ? `${u}\n` : `${u}\n\n${COMMON_USAGE}\n`;
}
