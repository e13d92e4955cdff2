/**
 * Sign-in budgets: failed password sign-ins per user and address, per address (spraying many ids),
 * per user (one id from many addresses) and in all, each within a sliding window. An attempt is
 * counted as a failure the moment it is admitted — before its password is hashed — and given back
 * only when it succeeds, so parallel attempts cannot overrun a budget; and one attempt per user
 * and address is checked at a time (`MAX_IN_FLIGHT`: nobody signs in twice in parallel — only a
 * script does), so a burst is answered at once. In memory, per process.
 */

/** At most `max` failures within `windowMs`. */
export interface Budget {
  max: number;
  windowMs: number;
}

export type BudgetScope = 'userAddress' | 'address' | 'user' | 'global';

export type SignInBudgets = Record<BudgetScope, Budget>;

const MINUTE = 60_000;

/** Attempts per user and address being checked at once. */
export const MAX_IN_FLIGHT = 1;

/** The defaults: the real user from their own address is only locked out by their own failures. */
export const DEFAULT_SIGN_IN_BUDGETS: SignInBudgets = {
  userAddress: { max: 5, windowMs: 15 * MINUTE },
  address: { max: 30, windowMs: 15 * MINUTE },
  user: { max: 50, windowMs: 15 * MINUTE },
  global: { max: 300, windowMs: 5 * MINUTE },
};

/** Failures (and attempts in flight) per key within a sliding window. */
class Window {
  private readonly times = new Map<string, number[]>();
  constructor(readonly budget: Budget) {}
  private recent(key: string, now: number): number[] {
    const list = (this.times.get(key) ?? []).filter((t) => t > now - this.budget.windowMs);
    if (list.length) this.times.set(key, list);
    else this.times.delete(key);
    return list;
  }
  /** Seconds until one more is allowed, or 0. */
  waitFor(key: string, now: number): number {
    const list = this.recent(key, now);
    if (list.length < this.budget.max) return 0;
    const oldest = list[list.length - this.budget.max] ?? now;
    return Math.max(1, Math.ceil((oldest + this.budget.windowMs - now) / 1000));
  }
  add(key: string, now: number): void {
    if (this.times.size > 50_000)
      for (const k of [...this.times.keys()]) if (!this.recent(k, now).length) this.times.delete(k);
    this.times.set(key, [...this.recent(key, now), now]);
  }
  /** Take back one entry made at `at` (an attempt that succeeded). */
  remove(key: string, at: number): void {
    const list = this.times.get(key);
    const i = list?.lastIndexOf(at) ?? -1;
    if (!list || i < 0) return;
    list.splice(i, 1);
    if (!list.length) this.times.delete(key);
  }
  clear(key: string): void {
    this.times.delete(key);
  }
}

/** An admitted attempt: tell how it ended (once). A failure keeps its place in every budget. */
export interface SignInAttempt {
  succeeded(): void;
  failed(): void;
  /** Nothing was checked (e.g. no hashing thread free): the attempt is not counted. */
  withdrawn(): void;
}

/** Refused before trying: which budget is spent and for how long. */
export interface SignInRefusal {
  scope: BudgetScope;
  retryAfter: number;
}

export class SignInLimits {
  private readonly windows: Record<BudgetScope, Window>;
  private readonly inFlight = new Map<string, number>();
  constructor(budgets: SignInBudgets = DEFAULT_SIGN_IN_BUDGETS) {
    this.windows = {
      userAddress: new Window(budgets.userAddress),
      address: new Window(budgets.address),
      user: new Window(budgets.user),
      global: new Window(budgets.global),
    };
  }

  private keys(userId: string, address: string): Record<BudgetScope, string> {
    const user = userId.trim().normalize('NFC').toLowerCase();
    return { userAddress: `${user}\u0000${address}`, address, user, global: '' };
  }

  /** Admit an attempt (counted at once as a failure), or say which budget refuses it. */
  admit(userId: string, address: string, now = Date.now()): SignInAttempt | SignInRefusal {
    const keys = this.keys(userId, address);
    const scopes = Object.keys(keys) as BudgetScope[];
    for (const scope of scopes) {
      const retryAfter = this.windows[scope].waitFor(keys[scope], now);
      if (retryAfter) return { scope, retryAfter };
    }
    const running = this.inFlight.get(keys.userAddress) ?? 0;
    if (running >= MAX_IN_FLIGHT) return { scope: 'userAddress', retryAfter: 1 };
    this.inFlight.set(keys.userAddress, running + 1);
    for (const scope of scopes) this.windows[scope].add(keys[scope], now);
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      const n = (this.inFlight.get(keys.userAddress) ?? 1) - 1;
      if (n > 0) this.inFlight.set(keys.userAddress, n);
      else this.inFlight.delete(keys.userAddress);
      return true;
    };
    const giveBack = (): void => {
      for (const scope of scopes) this.windows[scope].remove(keys[scope], now);
    };
    return {
      succeeded: () => {
        if (!settle()) return;
        giveBack();
        // The right password from this address: its earlier failures are forgiven.
        this.windows.userAddress.clear(keys.userAddress);
      },
      withdrawn: () => {
        if (settle()) giveBack();
      },
      failed: () => {
        settle();
      },
    };
  }
}

export function isRefusal(x: SignInAttempt | SignInRefusal): x is SignInRefusal {
  return 'scope' in x;
}
