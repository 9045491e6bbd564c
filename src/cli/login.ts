// `dclab login --phone P`: the lifecycle login (createDcClient().login) with the code and password answered from
// flags, the sandbox (inbox / test-number rule / test password) or the terminal; prints the redirect chain as it
// happens and the final home DC and user. Nothing secret is printed: not the code, not the password.
import { createDcClient, type DcClient } from '../lifecycle';
import type { TlObject } from '../tl/types';
import { flagBool, flagString, UsageError, type FlagSpecs, type ParsedArgs } from './args';
import type { CliContext } from './context';
import { progressLine } from './events';
import { prompt } from './io';

export const LOGIN_FLAGS: FlagSpecs = {
  '--phone': { kind: 'string', value: 'a phone number (digits, + and spaces allowed)' },
  '--code': { kind: 'string', value: 'the login code (digits)' },
  '--password-stdin': { kind: 'boolean' },
  '--sandbox-password': { kind: 'boolean' },
  '--first-name': { kind: 'string', value: 'a first name (sign-up of a new number)' },
  '--last-name': { kind: 'string', value: 'a last name' },
  '--json': { kind: 'boolean' },
};

const SANDBOX_TEST_PASSWORD = 'sandbox';

export function normalizePhone(raw: string): string | undefined {
  const s = raw.trim().replace(/[\s\-().+]/g, '');
  return /^\d{5,15}$/.test(s) ? s : undefined;
}

/** 99966XYYYY (X = 1..5): the sandbox's / Telegram test DCs' test numbers; the code is X repeated. */
export function testNumberDc(phone: string): number | undefined {
  const m = /^99966([1-5])\d{4}$/.exec(phone);
  return m ? Number(m[1]) : undefined;
}

export function isTestPasswordNumber(phone: string): boolean {
  return /^99966[1-5]9\d{3}$/.test(phone);
}

export function userLabel(u: TlObject | undefined): string {
  if (!u) return '';
  const name = [u.first_name, u.last_name].filter((x) => typeof x === 'string' && x).join(' ');
  return name ? ` (${name})` : '';
}

export async function runLogin(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const rawPhone = flagString(p, '--phone');
  if (rawPhone === undefined) throw new UsageError('--phone is required (e.g. --phone 9996641234)', 'login');
  const phone = normalizePhone(rawPhone);
  if (!phone) throw new UsageError(`--phone needs a phone number of 5..15 digits, got "${rawPhone}"`, 'login');
  const givenCode = flagString(p, '--code');
  if (givenCode !== undefined && !/^\d{3,10}$/.test(givenCode.trim())) throw new UsageError('--code needs 3..10 digits (value not shown)', 'login');
  const json = flagBool(p, '--json');
  const say = (line: string): void => (json ? ctx.io.err(`${line}\n`) : ctx.io.out(`${line}\n`));

  const profile = await ctx.connectProfile();
  await ctx.beginTrace(true, `+${phone}`);
  const sandbox = ctx.sandbox;
  const started = Date.now();
  const client: DcClient = createDcClient({
    profile,
    store: ctx.store,
    trace: ctx.trace,
    onEvent: (e) => {
      const line = progressLine(e);
      if (line) say(line);
    },
  });
  try {
    say(`Logging in +${phone} on the ${ctx.opts.profileName} profile${ctx.world ? ` (${ctx.world.where})` : ''}, starting at DC${profile.firstDc}`);
    const st = await ctx.startClient(() => client.start());
    if (st.state === 'authorized') {
      ctx.discardTrace(); // keep the session trace of that login
      ctx.note(`dclab login: already logged in as user ${st.userId ?? '?'} on DC${st.homeDc}; run \`dclab logout\` first`);
      return 1;
    }
    const codeLength = (): number => {
      const n = client.actor.getSnapshot().context.codeLength;
      return typeof n === 'number' && n > 0 ? n : 5;
    };
    let codeAsked = 0;
    const code = async (): Promise<string> => {
      codeAsked += 1;
      if (codeAsked > 1) {
        // asked again: the previous code was rejected — only a person at the terminal can do better
        const why = client.actor.getSnapshot().context.error ?? 'PHONE_CODE_INVALID';
        if (!ctx.io.interactive) throw new Error(`the login code was rejected (${why})${givenCode !== undefined ? ' — check --code' : ''}`);
        return prompt(ctx.io, `Code rejected (${why}). Login code for +${phone}: `);
      }
      if (givenCode !== undefined) return givenCode.trim();
      if (sandbox) {
        const delivered = sandbox.inbox().filter((m) => m.phone === phone && m.time >= started - 1000);
        const last = delivered[delivered.length - 1];
        if (last) {
          say('  code: read from the embedded sandbox inbox (not shown)');
          return last.code;
        }
      }
      const x = ctx.isSandbox ? testNumberDc(phone) : undefined;
      if (x !== undefined) {
        say('  code: sandbox test number, derived by rule (not shown)');
        return String(x).repeat(codeLength());
      }
      if (!ctx.io.interactive) throw new Error('the login code is needed: pass --code C (stdin is not a terminal, so it cannot be prompted)');
      const where = ctx.isSandbox && !sandbox ? ' (printed in the `dclab sandbox` log)' : '';
      return prompt(ctx.io, `Login code for +${phone}${where}: `);
    };
    const password = async (hint?: string): Promise<string> => {
      if (flagBool(p, '--password-stdin')) return (await ctx.stdinLines.line('--password-stdin')).replace(/\r$/, '');
      if (ctx.isSandbox && isTestPasswordNumber(phone) && (sandbox || flagBool(p, '--sandbox-password'))) {
        say('  2FA: the sandbox test password (not shown)');
        return SANDBOX_TEST_PASSWORD;
      }
      if (!ctx.io.interactive) {
        throw new Error(
          `the account has a 2FA password: pipe it to --password-stdin${ctx.isSandbox && isTestPasswordNumber(phone) ? ' or pass --sandbox-password' : ''}`,
        );
      }
      return prompt(ctx.io, `2FA password${hint ? ` (hint: ${hint})` : ''}: `, { secret: true });
    };
    const signUp = async (): Promise<{ firstName: string; lastName?: string }> => {
      const first = flagString(p, '--first-name');
      const last = flagString(p, '--last-name');
      if (first) return { firstName: first, ...(last ? { lastName: last } : {}) };
      if (!ctx.io.interactive) throw new Error(`+${phone} is not registered: pass --first-name F [--last-name L] to sign up`);
      const f = await prompt(ctx.io, 'New account — first name: ');
      const l = await prompt(ctx.io, 'Last name (optional): ');
      return { firstName: f, ...(l ? { lastName: l } : {}) };
    };
    const user = await client.login({ phone, code, password, signUp });
    const s = client.status();
    if (json) {
      ctx.io.out(
        `${JSON.stringify({
          ok: true,
          homeDc: s.homeDc,
          userId: s.userId,
          user: { id: String(user.id), first_name: user.first_name, last_name: user.last_name },
        })}\n`,
      );
    } else {
      say(`Logged in as user ${String(user.id)}${userLabel(user)} — home DC ${s.homeDc}`);
      say(
        `Saved to ${ctx.opts.dataDir} (profile ${ctx.opts.profileName}); auth keys for DC ${s.dcs
          .filter((d) => d.hasKey)
          .map((d) => d.dcId)
          .join(', ')} in secrets.json`,
      );
      if (ctx.embedded)
        say(
          'Note: the embedded sandbox stops with this command, and its world with it; use `dclab sandbox --info-file F` and --sandbox-info F to keep a login across commands.',
        );
    }
    return 0;
  } finally {
    await client.stop();
  }
}
