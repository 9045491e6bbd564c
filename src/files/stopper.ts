// The stop signal of one transfer: an abort or the first fatal error of any worker stops them all, and every wait
// raced against it ends at once with that error.
export class Stopper {
  private err: Error | undefined;
  private wake: (() => void) | undefined;
  private readonly stopped: Promise<never>;

  constructor() {
    this.stopped = new Promise<never>((_, reject) => {
      this.wake = () => reject(this.err);
    });
    this.stopped.catch(() => undefined);
  }

  /** The error that stopped the transfer, or undefined while it runs. */
  get error(): Error | undefined {
    return this.err;
  }

  /** The first call wins; later ones are ignored. */
  stop(e: Error): void {
    if (this.err) return;
    this.err = e;
    this.wake?.();
  }

  /** `p`, unless the transfer stops first (then its error; `p` is left to settle unobserved). */
  race<T>(p: Promise<T>): Promise<T> {
    if (this.err) {
      p.catch(() => undefined);
      return Promise.reject(this.err);
    }
    return Promise.race([p, this.stopped]);
  }

  /**
   * Runs `count` workers; each takes items until `take` runs dry or the transfer stops, and a worker's error stops
   * them all. Resolves when every worker has ended (the caller then checks `error`).
   */
  async runWorkers<T>(count: number, take: () => T | undefined, work: (item: T) => Promise<void>): Promise<void> {
    const worker = async (): Promise<void> => {
      for (;;) {
        if (this.err) return;
        const item = take();
        if (item === undefined) return;
        try {
          await work(item);
        } catch (e) {
          this.stop(e instanceof Error ? e : new Error(String(e)));
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: count }, () => worker()));
  }
}
