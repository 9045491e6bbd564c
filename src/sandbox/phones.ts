// Phone-number rules of the sandbox, modelled on Telegram's test DCs (api/auth "Test accounts"):
// 99966XYYYY with X = 1..5 belongs to DC X and its login code is X repeated five times; 99966X9YYY also has the
// 2FA password "sandbox". Every other number belongs to the sandbox's "nearest DC" and gets a random code.

export const SANDBOX_DC_IDS: readonly number[] = [1, 2, 3, 4, 5];
export const CODE_LENGTH = 5;
/** The 2FA password of every `99966X9YYY` user (and the default of the setPassword knob's docs). */
export const TEST_PASSWORD = 'sandbox';

export function isSandboxDc(dcId: number): boolean {
  return Number.isInteger(dcId) && dcId >= 1 && dcId <= 5;
}

/** Digits only ('+', spaces, dashes, dots and parentheses stripped); null when it cannot be a phone number. */
export function normalizePhone(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const stripped = raw.trim().replace(/[\s\-().+]/g, '');
  return /^[0-9]{5,15}$/.test(stripped) ? stripped : null;
}

/** DC X of a test number `99966XYYYY` (X = 1..5), else null. */
export function testPhoneDc(phone: string): number | null {
  const m = /^99966([1-5])[0-9]{4}$/.exec(phone);
  return m ? Number(m[1]) : null;
}

/** The fixed login code of a test number (X repeated CODE_LENGTH times), else null. */
export function testPhoneCode(phone: string): string | null {
  const dc = testPhoneDc(phone);
  return dc === null ? null : String(dc).repeat(CODE_LENGTH);
}

/** `99966X9YYY`: test numbers that carry the 2FA password "sandbox". */
export function hasTestPassword(phone: string): boolean {
  return /^99966[1-5]9[0-9]{3}$/.test(phone);
}

/** Users registered at start so logins work without sign-up: 99966X1234 and 99966X9234 for X = 1..5. */
export function seedPhones(): string[] {
  return SANDBOX_DC_IDS.flatMap((x) => [`99966${x}1234`, `99966${x}9234`]);
}
