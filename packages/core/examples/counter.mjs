// Run from packages/core after `npx tsc -b`: node examples/counter.mjs
import { MemoryBackend } from '@papyra/backend-memory';
import { Actor, ActorSystem } from '@papyra/core';

class Counter extends Actor {
  count = 0;

  receive(message) {
    switch (message.type) {
      case 'add':
        this.count += message.by;
        return this.count;
      case 'get':
        return this.count;
      case 'crash':
        throw new Error('asked to crash');
    }
  }
}

const backend = new MemoryBackend();
const system = new ActorSystem({ systemId: 'demo', persistence: backend });
await system.start();

const counter = system.spawn(Counter, { name: 'counter' }); // named: restarts on failure
await counter.tell({ type: 'add', by: 2 });
console.log('count:', await counter.ask({ type: 'add', by: 3 })); // 5

try {
  await counter.ask({ type: 'crash' });
} catch (err) {
  console.log('crashed:', err.message); // rejected after the restart happened
}
console.log('after restart:', await counter.ask({ type: 'get' })); // 0: fresh state, same ref
console.log('same actor:', system.refForName('counter') === counter, counter.address); // true demo:1

await system.close(); // stops the counter, persists its ActorStopped, flushes the backend
for (const e of await backend.listEvents()) console.log(new Date(e.timestamp).toISOString(), e.actorAddress, e.eventType, e.payload);
console.log(system.metrics.snapshot());
