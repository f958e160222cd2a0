// The quickstart: a small actor system persisting its lifecycle facts to ./papyra.ndjson.
// Run it after `pnpm build`; `pnpm demo` then checks the file with `papyra doctor run`.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NdjsonBackend } from '@papyra/backend-ndjson';
import { Actor, ActorSystem } from '@papyra/core';

const path = fileURLToPath(new URL('./papyra.ndjson', import.meta.url));
// Start from an empty store so every run tells the same story.
rmSync(path, { force: true });

/** Replies to greetings. */
class Greeter extends Actor {
  receive(message) {
    return `Hello, ${message.name}!`;
  }
}

/** Counts, but crashes on 'boom'; named actors restart by default, with a fresh instance. */
class FlakyCounter extends Actor {
  count = 0;
  receive(message) {
    if (message === 'boom') throw new Error('boom: a simulated failure');
    this.count += 1;
    return this.count;
  }
}

/** Does nothing useful; we stop it and then write to it. */
class Worker extends Actor {
  receive() {}
}

const time = (ms) => new Date(ms).toISOString().slice(11, 23);
const backend = new NdjsonBackend({ path, fsync: 'always' });
const system = new ActorSystem({
  systemId: 'quickstart',
  persistence: backend,
  startup: { mode: 'fail_on_anomaly' },
  hooks: {
    onEvent: (e) => console.log(`${time(e.timestamp)}  event        ${e.eventType.padEnd(14)} ${e.actorAddress}  ${JSON.stringify(e.payload)}`),
    onDeadLetter: (d) => console.log(`${time(d.timestamp)}  dead letter  ${d.messageType.padEnd(14)} ${d.target}  ${JSON.stringify(d.payload)} (${d.reason})`),
    onAudit: (a) =>
      console.log(`${time(a.timestamp)}  audit        ${a.totalActors} actors, ${a.aliveActors} alive, ${a.deadLettersCount} dead letter(s) so far`),
  },
});

await system.start();
const greeter = system.spawn(Greeter, { name: 'greeter' });
const counter = system.spawn(FlakyCounter, { name: 'counter' });
const worker = system.spawn(Worker);

console.log(`greeter replied: ${await greeter.ask({ name: 'Papyra' })}`);
await counter.ask('tick');
await counter.tell('boom');
console.log(`counter after its restart: ${await counter.ask('tick')} (a fresh instance)`);

await system.stop(worker);
try {
  await worker.tell('are you there?');
} catch (error) {
  console.log(`telling the stopped worker failed with ${error.code}; the message is a dead letter`);
}

system.audit();
await system.close();
await backend.close();
console.log(`\nwrote ${path}\n`);
