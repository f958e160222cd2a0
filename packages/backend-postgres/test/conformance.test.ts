import { afterEach, beforeEach, describe, it } from '@jest/globals';
import { runBackendConformance } from '@papyra/persistence-contract/conformance';
import { databaseReachable } from './db.js';
import { postgresHarness } from './harness.js';

const { harness, end } = postgresHarness();

if (databaseReachable) {
  await runBackendConformance({ describe, it, beforeEach, afterEach }, harness);
  describe('teardown', () => {
    it('ends the admin pool', async () => {
      await end();
    });
  });
} else {
  await end();
  describe.skip('postgres conformance (PostgreSQL unreachable)', () => {
    it('skipped', async () => {});
  });
}
