import assert from 'node:assert/strict';
import { decodeRecord } from '../../codec.js';
import type { PersistedRecord } from '../../records.js';
import { byKind, listAll, sampleAudit, sampleDeadLetter, sampleEvent, writeAll } from '../samples.js';
import type { ConformanceScenario } from '../types.js';

const topic = 'round trip';

/** Text that breaks naive line formats, SQL quoting or byte/char confusion. */
const HOSTILE = [
  'héllo ✓',
  '日本語テキスト',
  'مرحبا بالعالم',
  '👩‍👩‍👧‍👦 family, 🏳️‍🌈 flag',
  'e\u0301 combining',
  'line\nbreak\r\nand\ttab',
  '\u2028 line and paragraph \u2029 separators',
  'quote " backslash \\ slash / apostrophe \'',
  'control \u0001\u001f and nul \u0000 characters',
  "'; DROP TABLE papyra_records; --",
];

export const roundTripScenarios: ConformanceScenario[] = [
  {
    topic,
    name: 'round-trips an event, an audit and a dead letter exactly',
    needs: {},
    async run(ctx) {
      const backend = await ctx.make();
      const records: PersistedRecord[] = [
        sampleEvent(1, { eventType: 'ActorCrashed', payload: { error: 'boom', attempt: 2, nested: { list: [1, 'two', null, true, 3.5] } } }),
        sampleAudit(2, { registryOrphans: ['conformance:7', 'conformance:8'], registryDead: ['conformance:9'] }),
        sampleDeadLetter(3, { expectsReply: true, reason: 'mailbox full' }),
      ];
      await writeAll(backend, records);
      assert.deepEqual(await listAll(backend), byKind(records));
    },
  },
  {
    topic,
    name: 'round-trips Unicode and hostile text in every field',
    needs: {},
    async run(ctx) {
      const backend = await ctx.make();
      const payload = Object.fromEntries(HOSTILE.map((text, i) => [`${text} #${i}`, text]));
      const records: PersistedRecord[] = [
        sampleEvent(1, { systemId: 'système ✓', actorAddress: 'système ✓:1', eventType: 'Événement 🎉', payload }),
        sampleAudit(2, { systemId: '系统', registryOrphans: HOSTILE.slice(0, 3), registryDead: HOSTILE.slice(3) }),
        ...HOSTILE.map((text, i) => sampleDeadLetter(i, { messageType: text, reason: text, payload: text })),
        sampleDeadLetter(99, { payload: { list: HOSTILE, object: payload } }),
      ];
      await writeAll(backend, records);
      assert.deepEqual(await listAll(backend), byKind(records));
    },
  },
  {
    topic,
    name: 'keeps a payload key named __proto__ as data',
    needs: {},
    async run(ctx) {
      const backend = await ctx.make();
      const payload = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}') as Record<string, never>;
      const event = sampleEvent(1, { payload });
      await writeAll(backend, [event]);
      const [listed] = await backend.listEvents();
      assert.ok(listed, 'the event is listed');
      assert.ok(Object.hasOwn(listed.payload, '__proto__'), '"__proto__" is an own key of the listed payload');
      assert.deepEqual(listed, event);
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined, 'Object.prototype is not polluted');
    },
  },
  {
    topic,
    name: 'round-trips ~1 MB payloads',
    needs: {},
    async run(ctx) {
      const backend = await ctx.make();
      // Multi-byte characters make the UTF-8 size differ from the string length.
      const chunk = 'Papyra ✓ ünïcödé 日本 — ';
      const big = chunk.repeat(Math.ceil(1_000_000 / Buffer.byteLength(chunk)));
      const records: PersistedRecord[] = [
        sampleEvent(1, { payload: { big, after: 'tail' } }),
        sampleDeadLetter(2, { payload: big }),
        sampleAudit(3, { registryDead: Array.from({ length: 20_000 }, (_, i) => `conformance:${i}`) }),
        sampleEvent(4),
      ];
      await writeAll(backend, records);
      assert.deepEqual(await listAll(backend), byKind(records));
    },
  },
  {
    topic,
    name: 'preserves record ids, and null ids of records decoded from Python Papyra',
    needs: {},
    async run(ctx) {
      const backend = await ctx.make();
      const python = [
        '{"kind": "event", "system_id": "local", "actor_address": {"system": "local", "actor_id": 1}, "event_type": "ActorStarted", "payload": {}, "timestamp": 343.62}',
        '{"kind": "audit", "system_id": "local", "timestamp": 344.5, "total_actors": 4, "alive_actors": 3, "stopping_actors": 0, "restarting_actors": 0, "registry_size": 4, "registry_orphans": [], "registry_dead": [{"system": "local", "actor_id": 2}], "dead_letters_count": 5}',
        '{"kind": "dead_letter", "system_id": "local", "target": {"system": "local", "actor_id": 2}, "message_type": "str", "payload": "héllo ✓", "expects_reply": false, "timestamp": 345.25}',
      ].map((line) => decodeRecord(line));
      assert.ok(python.every((r) => r.id === null));
      const ours = [sampleEvent(1), sampleAudit(2), sampleDeadLetter(3)];
      const records = [...python, ...ours];
      await writeAll(backend, records);
      const listed = await listAll(backend);
      assert.deepEqual(
        [...listed.events, ...listed.audits, ...listed.deadLetters].map((r) => r.id),
        [python[0]!.id, ours[0]!.id, python[1]!.id, ours[1]!.id, python[2]!.id, ours[2]!.id],
      );
      assert.deepEqual(listed, byKind(records));
    },
  },
];
