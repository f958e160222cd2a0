/** How big each benchmark is: `full` for BENCHMARKS.md, `quick` for the smoke test in CI. */
export interface Scale {
  runs: number;
  /** Rounds of the figures that read a whole 1M-record file (scan, listEvents since, the CLI). */
  readRuns: number;
  appendRecords: number;
  fsyncRecords: number;
  scanRecords: number;
  redisRecords: number;
  postgresRecords: number;
  pingPongRoundTrips: number;
  asks: number;
  spawnStop: number;
  idleActors: number;
  actorsSpawned: number;
  lifecycleActors: number;
  crashes: number;
}

export const FULL: Scale = {
  runs: 5,
  readRuns: 3,
  appendRecords: 200_000,
  fsyncRecords: 20_000,
  scanRecords: 1_000_000,
  redisRecords: 50_000,
  postgresRecords: 20_000,
  pingPongRoundTrips: 200_000,
  asks: 20_000,
  spawnStop: 20_000,
  idleActors: 20_000,
  actorsSpawned: 100_000,
  lifecycleActors: 10_000,
  crashes: 200,
};

export const QUICK: Scale = {
  runs: 1,
  readRuns: 1,
  appendRecords: 2_000,
  fsyncRecords: 300,
  scanRecords: 5_000,
  redisRecords: 500,
  postgresRecords: 200,
  pingPongRoundTrips: 1_000,
  asks: 200,
  spawnStop: 1_000,
  idleActors: 500,
  actorsSpawned: 2_000,
  lifecycleActors: 300,
  crashes: 5,
};
