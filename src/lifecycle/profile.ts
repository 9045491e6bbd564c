// Which DC profile a profile name means (sandbox, test, production, custom:<name>): the one resolution the CLI and
// the extension share. Each front end says where the sandbox, the api credentials and a custom server come from,
// and how its user supplies one that is missing (a flag, a setting, a command).
import { customProfile, productionProfile, profileFromSandboxInfo, testProfile, type DcAddress, type Profile } from '../dc/profile';
import type { ProfileName } from '../storage';
import type { TransportName } from '../transport/codec';

/** A custom server as stored by a front end. */
export interface CustomServer {
  dcs: DcAddress[];
  rsaPem: string;
  testMode: boolean;
}

/** The addresses and RSA key of a running sandbox (its info). */
export type SandboxAddresses = Parameters<typeof profileFromSandboxInfo>[0];

export interface ProfileSources {
  transport?: TransportName;
  /** The sandbox profile: the sandbox to use (attached, or started on demand). */
  sandbox(): Promise<SandboxAddresses>;
  apiId(): Promise<number | undefined>;
  apiHash(): Promise<string | undefined>;
  customServer(name: ProfileName): Promise<CustomServer | undefined>;
  /** How this front end's user supplies each missing piece, e.g. `--api-id N (stored for later commands)`. */
  howToSet: { apiId: string; apiHash: string; customServer: string };
}

/** The DC profile of `name`; the credentials are asked for only by the profiles that need them. */
export async function resolveProfile(name: ProfileName, sources: ProfileSources): Promise<Profile> {
  const transport = sources.transport ? { transport: sources.transport } : {};
  if (name === 'sandbox') return profileFromSandboxInfo(await sources.sandbox(), transport);
  const apiId = await sources.apiId();
  if (!apiId) throw new Error(`the ${name} profile needs an api_id (from my.telegram.org): ${sources.howToSet.apiId}`);
  const apiHash = await sources.apiHash();
  if (!apiHash) throw new Error(`the ${name} profile needs an api_hash: ${sources.howToSet.apiHash}`);
  const creds = { apiId, apiHash, ...transport };
  if (name === 'test') return testProfile(creds);
  if (name === 'production') return productionProfile(creds);
  const server = await sources.customServer(name);
  if (!server) throw new Error(`profile ${name} is not defined: ${sources.howToSet.customServer}`);
  return customProfile({ ...creds, dcs: server.dcs, rsaPem: server.rsaPem, testMode: server.testMode });
}
