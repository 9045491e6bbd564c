// The sandbox's API methods as plain functions over the World. `SandboxApi.handle` is the `handler` given to
// serveMtprotoLink: it returns the result (layer-227 shaped TL objects) or throws SandboxRpcError → rpc_error.
import type { TlObject } from '../tl/types';
import { srpServerChallenge, srpServerCheck } from '../crypto/srp';
import { CONFIG_TTL_S, buildConfig, buildNearestDc, type DcEndpoint } from './config';
import { SandboxRpcError, badRequest, isRpcErrorLike, methodNotSupported, seeOther, unauthorized } from './errors';
import { FaultInjector } from './faults';
import { CODE_LENGTH, isSandboxDc, normalizePhone } from './phones';
import { SRP_G, SRP_P, SRP_P_BYTES, type World, randomBytes, type Authorization, type SandboxUser } from './world';

/** What the dispatcher hands to the handler (a structural subset of session-server's ServerCall). */
export interface SandboxCall {
  method: TlObject;
  layer: number;
  dcId: number;
  authKeyId: bigint;
  sessionId?: bigint;
  msgId?: bigint;
  connection?: { remote: string; transport: string };
  initConnection?: TlObject;
}

export interface CallContext {
  world: World;
  dcId: number;
  authKeyId: bigint;
  layer: number;
  /** The login authorization of the key, when there is one. */
  auth?: Authorization;
  /** The authorized user, when there is one. */
  user?: SandboxUser;
  topology: () => DcEndpoint[];
  /** help.getConfig's `expires` (unix s). */
  configExpires: () => number;
}

type MethodImpl = (ctx: CallContext, params: TlObject) => unknown;

/** Methods that work on a key that is not authorized (as on Telegram); every other one answers 401 AUTH_KEY_UNREGISTERED. */
export const METHODS_BEFORE_AUTH: ReadonlySet<string> = new Set([
  'auth.sendCode',
  'auth.resendCode',
  'auth.cancelCode',
  'auth.signIn',
  'auth.signUp',
  'auth.importAuthorization',
  'auth.importBotAuthorization',
  'auth.exportLoginToken',
  'auth.importLoginToken',
  'auth.bindTempAuthKey',
  'account.getPassword',
  'auth.checkPassword',
  'help.getConfig',
  'help.getNearestDc',
  'help.getCdnConfig',
  'help.getAppConfig',
  'help.getCountriesList',
  'help.getAppUpdate',
]);

/** Wrappers the dispatcher may leave in place; the query inside is what runs. */
const WRAPPERS = new Set([
  'invokeWithLayer',
  'initConnection',
  'invokeWithoutUpdates',
  'invokeAfterMsg',
  'invokeAfterMsgs',
  'invokeWithMessagesRange',
  'invokeWithTakeout',
  'invokeWithApnsSecret',
  'invokeWithGooglePlayIntegrity',
  'invokeWithReCaptcha',
  'invokeWithBusinessConnection',
]);

export function unwrapQuery(method: TlObject): TlObject {
  let m = method;
  for (let i = 0; i < 8 && WRAPPERS.has(m._); i++) {
    const q = m.query;
    if (!q || typeof q !== 'object' || typeof (q as TlObject)._ !== 'string') break;
    m = q as TlObject;
  }
  return m;
}

// ---- TL builders ----

export function userObject(user: SandboxUser, self: boolean, nowMs: number): TlObject {
  const u: TlObject = {
    _: 'user',
    id: user.id,
    access_hash: user.accessHash,
    first_name: user.firstName,
    phone: user.phone,
    status: { _: 'userStatusOnline', expires: Math.floor(nowMs / 1000) + 300 },
  };
  if (self) u.self = true;
  if (user.lastName) u.last_name = user.lastName;
  return u;
}

function authorizationResult(ctx: CallContext, user: SandboxUser): TlObject {
  return { _: 'auth.authorization', user: userObject(user, true, ctx.world.now()) };
}

function sentCode(hash: string, typeName: string): TlObject {
  return {
    _: 'auth.sentCode',
    type: { _: typeName, length: CODE_LENGTH },
    phone_code_hash: hash,
    next_type: { _: 'auth.codeTypeSms' },
    timeout: 60,
  };
}

function phoneParam(params: TlObject): string {
  const phone = normalizePhone(params.phone_number);
  if (!phone) throw new SandboxRpcError(406, 'PHONE_NUMBER_INVALID');
  return phone;
}

function checkPhoneDc(ctx: CallContext, phone: string): void {
  const redirect = ctx.world.phoneRedirect(phone, ctx.dcId);
  if (redirect) throw redirect;
}

function requireUser(ctx: CallContext): SandboxUser {
  if (!ctx.user) throw unauthorized('AUTH_KEY_UNREGISTERED');
  return ctx.user;
}

function isSelf(ctx: CallContext, input: unknown): boolean {
  if (!input || typeof input !== 'object') return false;
  const i = input as TlObject;
  if (i._ === 'inputUserSelf') return true;
  if (i._ === 'inputUser' || i._ === 'inputUserFromMessage') return i.user_id === ctx.user?.id;
  return false;
}

// ---- methods ----

const sendCode: MethodImpl = (ctx, params) => {
  const phone = phoneParam(params);
  checkPhoneDc(ctx, phone);
  ctx.world.limits.codeRequested(phone);
  const pending = ctx.world.issueCode(phone, ctx.dcId);
  return sentCode(pending.hash, 'auth.sentCodeTypeApp');
};

const resendCode: MethodImpl = (ctx, params) => {
  const phone = phoneParam(params);
  checkPhoneDc(ctx, phone);
  const pending = ctx.world.pendingCode(params.phone_code_hash, phone, ctx.dcId);
  ctx.world.limits.codeRequested(phone);
  pending.expires = ctx.world.now() + ctx.world.codeTtlMs;
  ctx.world.deliver(pending);
  return sentCode(pending.hash, 'auth.sentCodeTypeSms');
};

const cancelCode: MethodImpl = (ctx, params) => {
  const phone = phoneParam(params);
  const pending = ctx.world.pendingCode(params.phone_code_hash, phone, ctx.dcId);
  ctx.world.consumeCode(pending.hash);
  return true;
};

const signIn: MethodImpl = (ctx, params) => {
  const { world } = ctx;
  const phone = phoneParam(params);
  checkPhoneDc(ctx, phone);
  const pending = world.pendingCode(params.phone_code_hash, phone, ctx.dcId);
  const code = params.phone_code;
  if (typeof code !== 'string' || code === '') throw badRequest('PHONE_CODE_EMPTY');
  world.limits.checkCodeAttempt(phone);
  if (code !== pending.code) {
    world.limits.codeWrong(phone);
    throw badRequest('PHONE_CODE_INVALID');
  }
  world.limits.codeAccepted(phone);
  const user = world.userByPhone(phone);
  if (!user) {
    pending.verified = true;
    return { _: 'auth.authorizationSignUpRequired' };
  }
  world.consumeCode(pending.hash);
  if (user.password) {
    world.setPasswordPending(ctx.dcId, ctx.authKeyId, user.id);
    throw unauthorized('SESSION_PASSWORD_NEEDED');
  }
  world.authorize(ctx.dcId, ctx.authKeyId, user.id, 'login');
  return authorizationResult(ctx, user);
};

const signUp: MethodImpl = (ctx, params) => {
  const { world } = ctx;
  const phone = phoneParam(params);
  checkPhoneDc(ctx, phone);
  const pending = world.pendingCode(params.phone_code_hash, phone, ctx.dcId);
  if (world.userByPhone(phone)) throw badRequest('PHONE_NUMBER_OCCUPIED');
  if (!pending.verified) throw badRequest('PHONE_CODE_INVALID');
  const first = typeof params.first_name === 'string' ? params.first_name.trim() : '';
  const last = typeof params.last_name === 'string' ? params.last_name.trim() : '';
  if (first === '' || first.length > 64) throw badRequest('FIRSTNAME_INVALID');
  if (last.length > 64) throw badRequest('LASTNAME_INVALID');
  world.consumeCode(pending.hash);
  const user = world.registerUser(phone, first, last, ctx.dcId);
  world.authorize(ctx.dcId, ctx.authKeyId, user.id, 'login');
  return authorizationResult(ctx, user);
};

/** The user account.getPassword / auth.checkPassword talk about: the key's user or the one owing its 2FA password. */
function passwordUser(ctx: CallContext): SandboxUser | undefined {
  if (ctx.user) return ctx.user;
  const pendingId = ctx.world.passwordPendingUser(ctx.dcId, ctx.authKeyId);
  return pendingId === undefined ? undefined : ctx.world.userById(pendingId);
}

const getPassword: MethodImpl = (ctx) => {
  const { world } = ctx;
  const p = SRP_P_BYTES();
  const result: TlObject = {
    _: 'account.password',
    new_algo: {
      _: 'passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow',
      salt1: randomBytes(8),
      salt2: randomBytes(16),
      g: SRP_G,
      p,
    },
    new_secure_algo: { _: 'securePasswordKdfAlgoSHA512', salt: randomBytes(8) },
    secure_random: randomBytes(32),
  };
  const user = passwordUser(ctx);
  if (!user?.password) return result;
  const pw = user.password;
  const { b, B } = srpServerChallenge(pw.verifier(), SRP_G, SRP_P);
  const challenge = world.addChallenge({
    userId: user.id,
    dcId: ctx.dcId,
    authKeyId: ctx.authKeyId,
    b,
    B,
    passwordVersion: pw.version,
  });
  result.has_password = true;
  result.current_algo = {
    _: 'passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow',
    salt1: pw.salt1,
    salt2: pw.salt2,
    g: SRP_G,
    p,
  };
  result.srp_B = B;
  result.srp_id = challenge.srpId;
  result.hint = '';
  return result;
};

const checkPassword: MethodImpl = (ctx, params) => {
  const { world } = ctx;
  const input = params.password as TlObject | undefined;
  if (input?._ !== 'inputCheckPasswordSRP') throw badRequest('PASSWORD_HASH_INVALID');
  const user = passwordUser(ctx);
  if (user) world.limits.checkPasswordAttempt(user.id);
  const challenge = world.takeChallenge(input.srp_id);
  if (!user || !challenge || challenge.userId !== user.id || challenge.dcId !== ctx.dcId || challenge.authKeyId !== ctx.authKeyId) {
    throw badRequest('SRP_ID_INVALID');
  }
  const pw = user.password;
  if (!pw || pw.version !== challenge.passwordVersion) throw badRequest('SRP_PASSWORD_CHANGED');
  const A = input.A;
  const M1 = input.M1;
  let ok = false;
  if (A instanceof Uint8Array && M1 instanceof Uint8Array) {
    try {
      ok = srpServerCheck({
        verifier: pw.verifier(),
        b: challenge.b,
        B: challenge.B,
        A,
        M1,
        salt1: pw.salt1,
        salt2: pw.salt2,
        g: SRP_G,
        p: SRP_P,
      });
    } catch {
      ok = false;
    }
  }
  if (!ok) {
    world.limits.passwordWrong(user.id);
    throw badRequest('PASSWORD_HASH_INVALID');
  }
  world.limits.passwordAccepted(user.id);
  if (!ctx.user) world.authorize(ctx.dcId, ctx.authKeyId, user.id, 'login');
  return authorizationResult(ctx, user);
};

const exportAuthorization: MethodImpl = (ctx, params) => {
  const user = requireUser(ctx);
  const target = params.dc_id;
  if (typeof target !== 'number' || !isSandboxDc(target) || target === ctx.dcId) throw badRequest('DC_ID_INVALID');
  const e = ctx.world.exportAuthorization(user.id, ctx.dcId, target);
  return { _: 'auth.exportedAuthorization', id: e.id, bytes: e.bytes };
};

const importAuthorization: MethodImpl = (ctx, params) => {
  const { world } = ctx;
  const e = world.redeemExported(params.id, params.bytes, ctx.dcId, ctx.authKeyId);
  const user = world.userById(e.userId);
  if (!user) throw badRequest('USER_ID_INVALID');
  const current = world.authorization(ctx.dcId, ctx.authKeyId);
  if (!current || current.userId !== user.id) world.authorize(ctx.dcId, ctx.authKeyId, user.id, 'imported');
  return authorizationResult(ctx, user);
};

const logOut: MethodImpl = (ctx) => {
  requireUser(ctx);
  ctx.world.unauthorize(ctx.dcId, ctx.authKeyId);
  return { _: 'auth.loggedOut' };
};

const getUsers: MethodImpl = (ctx, params) => {
  const self = requireUser(ctx);
  const ids = Array.isArray(params.id) ? params.id : [];
  const out: TlObject[] = [];
  for (const input of ids) {
    if (isSelf(ctx, input)) {
      out.push(userObject(self, true, ctx.world.now()));
      continue;
    }
    const i = input as TlObject;
    if (i && i._ === 'inputUser' && typeof i.user_id === 'bigint') {
      const other = ctx.world.userById(i.user_id);
      if (other && other.accessHash === i.access_hash) out.push(userObject(other, false, ctx.world.now()));
    }
  }
  return out;
};

const getFullUser: MethodImpl = (ctx, params) => {
  const self = requireUser(ctx);
  if (!isSelf(ctx, params.id)) throw badRequest('USER_ID_INVALID');
  return {
    _: 'users.userFull',
    full_user: {
      _: 'userFull',
      id: self.id,
      about: 'A user of the MTProto DC Lab sandbox',
      settings: { _: 'peerSettings' },
      notify_settings: { _: 'peerNotifySettings' },
      common_chats_count: 0,
    },
    chats: [],
    users: [userObject(self, true, ctx.world.now())],
  };
};

const getState: MethodImpl = (ctx) => {
  requireUser(ctx);
  return { _: 'updates.state', pts: 1, qts: 0, date: Math.floor(ctx.world.now() / 1000), seq: 0, unread_count: 0 };
};

/** The sandbox world has no update stream yet: every difference is empty at the current state. */
const getDifference: MethodImpl = (ctx) => {
  requireUser(ctx);
  return { _: 'updates.differenceEmpty', date: Math.floor(ctx.world.now() / 1000), seq: 0 };
};

export const METHODS: Readonly<Record<string, MethodImpl>> = {
  'help.getConfig': (ctx) => buildConfig(ctx.dcId, ctx.topology(), ctx.world.now(), ctx.configExpires()),
  'help.getNearestDc': (ctx) => buildNearestDc(ctx.dcId, ctx.world.nearestDc),
  'help.getCdnConfig': () => ({ _: 'cdnConfig', public_keys: [] }),
  'auth.sendCode': sendCode,
  'auth.resendCode': resendCode,
  'auth.cancelCode': cancelCode,
  'auth.signIn': signIn,
  'auth.signUp': signUp,
  'account.getPassword': getPassword,
  'auth.checkPassword': checkPassword,
  'auth.exportAuthorization': exportAuthorization,
  'auth.importAuthorization': importAuthorization,
  'auth.logOut': logOut,
  'users.getUsers': getUsers,
  'users.getFullUser': getFullUser,
  'updates.getState': getState,
  'updates.getDifference': getDifference,
};

export interface SandboxApiOptions {
  /** The listeners as help.getConfig should advertise them (read at call time). */
  topology: () => DcEndpoint[];
  /** help.getConfig's `expires` (unix s); default now + CONFIG_TTL_S. */
  configExpires?: () => number;
  log?: (line: string) => void;
  /** More methods (files.ts), looked up before METHODS. */
  methods?: Readonly<Record<string, (ctx: CallContext, params: TlObject) => unknown>>;
}

export class SandboxApi {
  private readonly log: (line: string) => void;
  /** Scenario knob: chosen calls answer chosen rpc_errors (see faults.ts). */
  readonly faults: FaultInjector;
  constructor(
    readonly world: World,
    private readonly opts: SandboxApiOptions,
  ) {
    this.log = opts.log ?? (() => {});
    this.faults = new FaultInjector(world.now);
  }

  /** The serveMtprotoLink handler: a result value, or a thrown { code, message } that becomes rpc_error. */
  handle = async (call: SandboxCall): Promise<unknown> => {
    const method = unwrapQuery(call.method);
    const name = method._;
    try {
      return this.run(call, method);
    } catch (e) {
      if (isRpcErrorLike(e)) {
        this.log(`DC${call.dcId}: ${name} → rpc_error ${e.code} ${e.message}`);
        throw e;
      }
      this.log(`DC${call.dcId}: ${name} failed inside the sandbox: ${e instanceof Error ? e.message : String(e)}`);
      throw new SandboxRpcError(500, 'INTERNAL_SERVER_ERROR');
    }
  };

  private run(call: SandboxCall, method: TlObject): unknown {
    const { world } = this;
    const name = method._;
    if (typeof name !== 'string' || name === '') throw badRequest('INPUT_METHOD_INVALID');
    const fault = this.faults.take(name, call.dcId);
    if (fault) throw fault;
    let auth = world.authorization(call.dcId, call.authKeyId);
    const user = auth ? world.userById(auth.userId) : undefined;
    if (auth && !user) {
      world.unauthorize(call.dcId, call.authKeyId);
      auth = undefined;
    }
    const beforeAuth = METHODS_BEFORE_AUTH.has(name) || name.startsWith('langpack.');
    if (!user && !beforeAuth) throw unauthorized('AUTH_KEY_UNREGISTERED');
    if (auth && user && auth.kind === 'login' && user.homeDc !== call.dcId && name !== 'auth.exportAuthorization') {
      throw seeOther('USER_MIGRATE', user.homeDc);
    }
    const extra = this.opts.methods;
    const impl = (extra && Object.hasOwn(extra, name) ? extra[name] : undefined) ?? (Object.hasOwn(METHODS, name) ? METHODS[name] : undefined);
    if (!impl) {
      this.log(`DC${call.dcId}: method ${name} (layer ${call.layer}) is not implemented in the sandbox`);
      throw methodNotSupported(name);
    }
    const ctx: CallContext = {
      world,
      dcId: call.dcId,
      authKeyId: call.authKeyId,
      layer: call.layer,
      topology: this.opts.topology,
      configExpires: this.opts.configExpires ?? (() => Math.floor(world.now() / 1000) + CONFIG_TTL_S),
      ...(auth ? { auth } : {}),
      ...(user ? { user } : {}),
    };
    return impl(ctx, method);
  }
}
