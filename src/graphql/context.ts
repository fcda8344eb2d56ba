import type { EventBus } from '../events/bus.js';
import type { ClaimWaiters } from '../events/claim-waiters.js';
import type { Metrics } from '../observability/metrics.js';
import type { Role, TaskStore } from '../store/index.js';

/** Who is calling. With no tokens configured, everyone is an open admin. */
export interface Principal {
  role: Role;
  tokenId: string | null;
  /** For worker tokens: the only worker id the caller may act as. */
  workerId: string | null;
  name: string;
  open: boolean;
}

/** What every resolver gets. Resolvers talk to the engine (`store`) and read the bus. */
export interface Context {
  store: TaskStore;
  bus: EventBus;
  waiters: ClaimWaiters;
  limits: ApiLimits;
  principal: Principal;
  metrics: Metrics | null;
  /** Aborted when the client gives up on the request (disconnects, completes the operation). */
  signal: AbortSignal | null;
  /** Names the request (HTTP: the x-request-id header) or the WebSocket operation in logs. */
  reqId: string;
}

export interface ApiLimits {
  /** Longest a claimTasks long-poll may hold a request. */
  maxWaitSeconds: number;
  /** Most events a subscription may have waiting for a slow client before it is closed. */
  subscriptionBuffer: number;
  /** Most task stats recomputations per second per queueStatsUpdated subscription. */
  statsPerSecond: number;
}
