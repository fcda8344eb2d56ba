/** What every unit may ask of the engine that runs it: the clock, randomness and settings. */
export interface EngineEnv {
  /** Injected clock (ms since epoch). */
  now(): number;
  /** Injected randomness in [0, 1): backoff jitter and WEIGHTED_RANDOM. */
  random(): number;
  defaultLeaseSeconds: number;
  backoffBaseMs: number;
  backoffCapMs: number;
  /** A worker without a heartbeat for this long becomes STALE. */
  staleWorkerAfterMs: number;
  maxPayloadBytes: number;
}
