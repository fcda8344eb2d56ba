import type { EventBus } from '../events/bus.js';
import type { ClaimWaiters } from '../events/claim-waiters.js';
import type { TaskStore } from '../store/index.js';

/** What every resolver gets. Resolvers talk to the engine (`store`) and read the bus. */
export interface Context {
  store: TaskStore;
  bus: EventBus;
  waiters: ClaimWaiters;
  limits: ApiLimits;
}

export interface ApiLimits {
  /** Longest a claimTasks long-poll may hold a request. */
  maxWaitSeconds: number;
  /** Most events a subscription may have waiting for a slow client before it is closed. */
  subscriptionBuffer: number;
  /** Most task stats recomputations per second per queueStatsUpdated subscription. */
  statsPerSecond: number;
}
