// The webview side of the typed IPC: requests with id correlation, commands, notification listeners, and the
// panel state kept with acquireVsCodeApi().getState/setState.
import {
  command,
  isHostMessage,
  IPC_VERSION,
  request,
  type CommandName,
  type HostMessage,
  type HostNotifications,
  type NotificationName,
  type PanelState,
  type RequestName,
  type RequestParams,
  type RequestResult,
  type WebviewCommands,
  type WebviewMessage,
} from '../../src/ipc/index';

interface VsCodeApi {
  postMessage(msg: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

export class HostError extends Error {
  constructor(
    readonly method: string,
    message: string,
  ) {
    super(message);
  }
}

type Listener<M extends NotificationName> = (params: HostNotifications[M]) => void;

export class Host {
  private readonly api: VsCodeApi;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void; method: string }>();
  private readonly listeners = new Map<string, Set<(p: unknown) => void>>();

  constructor() {
    this.api = acquireVsCodeApi();
    window.addEventListener('message', (ev: MessageEvent) => this.receive(ev.data));
  }

  private post(msg: WebviewMessage): void {
    this.api.postMessage(msg);
  }

  request<M extends RequestName>(method: M, params: RequestParams<M>, timeoutMs = 120_000): Promise<RequestResult<M>> {
    const id = this.nextId++;
    return new Promise<RequestResult<M>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new HostError(method, `${method}: no answer from the extension host in ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.pending.set(id, {
        method,
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as RequestResult<M>);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.post(request(id, method, params) as WebviewMessage);
    });
  }

  command<M extends CommandName>(method: M, params: WebviewCommands[M]): void {
    this.post(command(method, params) as WebviewMessage);
  }

  on<M extends NotificationName>(method: M, listener: Listener<M>): () => void {
    let set = this.listeners.get(method);
    if (!set) this.listeners.set(method, (set = new Set()));
    set.add(listener as (p: unknown) => void);
    return () => set!.delete(listener as (p: unknown) => void);
  }

  ready(): void {
    this.command('ready', { version: IPC_VERSION });
  }

  log(level: 'info' | 'warn' | 'error', message: string): void {
    this.command('log', { level, message });
  }

  getState(): PanelState | undefined {
    const s = this.api.getState() as PanelState | undefined;
    return s && s.version === 1 ? s : undefined;
  }

  setState(state: PanelState): void {
    this.api.setState(state);
  }

  private receive(data: unknown): void {
    if (!isHostMessage(data)) return;
    const msg = data as HostMessage;
    if (msg.type === 'response') {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new HostError(msg.method, msg.error));
      return;
    }
    const set = this.listeners.get(msg.method);
    if (set)
      for (const l of [...set]) {
        try {
          l(msg.params);
        } catch (e) {
          this.log('error', `notification ${msg.method}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        }
      }
  }
}
