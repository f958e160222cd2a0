import pg from 'pg';
import type { Logger } from '@papyra/persistence-contract';
import type { PostgresClient, PostgresPool } from '../src/index.js';

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

/**
 * A real pool with switchable faults: `down` refuses every connection and statement as an
 * unreachable server would; `commitThenFail` lets that many transactions that inserted commit and
 * then reports a lost connection, as a client sees a timeout on a write the server did perform.
 */
export class FaultyPool implements PostgresPool {
  readonly real: pg.Pool;
  down = false;
  commitThenFail = 0;
  inserts = 0;

  constructor(connectionString: string) {
    this.real = new pg.Pool({ connectionString, max: 3 });
  }

  async connect(): Promise<PostgresClient> {
    if (this.down) throw refused();
    const client = await this.real.connect();
    let inserted = false;
    return {
      query: async <R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> => {
        if (this.down) throw refused();
        const result = await client.query<R>(text, values);
        if (text.trimStart().startsWith('INSERT')) {
          this.inserts += 1;
          inserted = true;
        }
        if (text === 'COMMIT' && inserted && this.commitThenFail > 0) {
          this.commitThenFail -= 1;
          throw Object.assign(new Error('Connection terminated due to connection timeout'), { code: 'ETIMEDOUT' });
        }
        return result;
      },
      release: (err) => client.release(err),
      on: (event, listener) => client.on(event, listener),
      removeListener: (event, listener) => client.removeListener(event, listener),
    };
  }

  on(event: 'error', listener: (err: Error) => void): this {
    this.real.on(event, listener);
    return this;
  }

  removeListener(event: 'error', listener: (err: Error) => void): this {
    this.real.removeListener(event, listener);
    return this;
  }

  end(): Promise<void> {
    return this.real.end();
  }
}

/** A pino-shaped logger that keeps every line. */
export function recordingLogger() {
  const lines: { level: string; obj: unknown; msg: string | undefined }[] = [];
  const at =
    (level: string) =>
    (obj: unknown, msg?: unknown): void => {
      lines.push(typeof obj === 'string' ? { level, obj: {}, msg: obj } : { level, obj, msg: typeof msg === 'string' ? msg : undefined });
    };
  const logger: Logger = {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
    child: () => logger,
  };
  return { logger, lines };
}
