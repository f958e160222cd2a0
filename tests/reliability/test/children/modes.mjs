// Creates every kind of file the ndjson backend makes, under umask 0 so that only the modes the
// backend asks for count: argv = directory. Prints one JSON line of octal modes.
import { statSync, writeFileSync, readdirSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEvent } from '@papyra/persistence-contract';
import { NdjsonBackend } from '@papyra/backend-ndjson';
import { lockPathFor } from '@papyra/backend-ndjson/segments';

process.umask(0);
const [root] = process.argv.slice(2);
const mode = (path) => (statSync(path).mode & 0o777).toString(8);
const path = join(root, 'nested', 'deeper', 'store.ndjson');
const modes = {};
const backend = new NdjsonBackend({ path, fsync: 'always', retention: { maxRecords: 2 } });
for (let i = 0; i < 5; i++) await backend.recordEvent(createEvent({ systemId: 's', actorAddress: `s:${i}`, eventType: 'ActorStarted' }));
modes.data = mode(path);
modes.lock = mode(lockPathFor(path));
modes.directory = mode(join(root, 'nested'));
await backend.compact();
modes.compacted = mode(path);
await backend.close();
// A corrupt line and a leftover temp of a dead process, then quarantine.
appendFileSync(path, 'not json\n');
writeFileSync(`${path}.papyra-tmp-999999-deadbeef`, 'leftover\n', { mode: 0o666 });
const recovering = new NdjsonBackend({ path });
const report = await recovering.recover({ mode: 'quarantine', quarantineDir: join(root, 'q', 'inner') });
await recovering.close();
modes.repaired = mode(path);
modes.quarantineDir = mode(join(root, 'q', 'inner'));
modes.quarantined = report.quarantinedFiles.map(mode);
modes.names = readdirSync(join(root, 'q', 'inner')).length;
process.stdout.write(`${JSON.stringify(modes)}\n`);
