import type { Logger, PersistenceBackend, RetentionPolicy } from '@papyra/persistence-contract';

/**
 * How an option's text or JSON value is checked: `positive`/`count` are integers ≥ 1 / ≥ 0,
 * `duration` is milliseconds or `7d`, `url` is never echoed back (it may hold a password),
 * `hosts` is `host:port,host:port` (or a JSON array of them).
 */
export type OptionKind = 'string' | 'url' | 'positive' | 'count' | 'duration' | 'boolean' | 'hosts';

/**
 * One store option. Its flag, variable and config key derive from `key`: `redisUrl` is
 * `--redis-url`, `PAPYRA_REDIS_URL` and `redisUrl`. `name` replaces the key in the flag and
 * variable when they differ (`maxAgeMs` is `--max-age`).
 */
export interface StoreOption {
  key: string;
  name?: string;
  kind: OptionKind;
  describe: string;
  /** Its value may hold credentials: removed from every output. */
  secret?: boolean;
}

export type OptionValue = string | number | boolean | readonly string[];
export type StoreValues = Readonly<Record<string, OptionValue | undefined>>;

/** What a store module reads its options through when it builds a spec. */
export interface OptionSource {
  /** The value of the highest layer that sets the option. */
  get<T extends OptionValue>(key: string): T | undefined;
  /** The value, or a usage error naming the flag and variable. */
  require<T extends OptionValue>(key: string): T;
  /** A path option, resolved against the directory of the layer that set it. */
  path(key: string): string | undefined;
}

/** Options every backend takes. */
export interface CommonOptions {
  logger?: Logger;
  retention?: RetentionPolicy;
}

/** A store as `--json` documents describe it: never a credential. */
export interface StoreDescription {
  backend: string;
  [field: string]: unknown;
}

/**
 * Everything the CLI knows about one backend: its options, how they select it, how to open it and
 * how to name the store in output without credentials.
 */
export interface StoreModule<S extends { backend: string; retention: RetentionPolicy }> {
  readonly backend: S['backend'];
  /** The options this backend reads (retention options are common to all and not listed). */
  readonly options: readonly StoreOption[];
  /** Whether the options one layer sets name this backend (`--path` alone means ndjson). */
  implies(values: StoreValues): boolean;
  /** The backend's settings from the options; throws a usage or configuration error. */
  spec(options: OptionSource, retention: RetentionPolicy): S;
  open(spec: S, common: CommonOptions): Promise<PersistenceBackend>;
  /** Structured description, for `--json`. */
  describe(spec: S): StoreDescription;
  /** One line for people: `ndjson /srv/papyra.ndjson`. Credentials may remain: output is redacted. */
  label(spec: S): string;
  /** The options to repeat in a suggested next command. */
  args(spec: S): string;
  /** For a store kept in files: whether any of it exists (an absent store reads as empty). */
  exists?(spec: S, backend: PersistenceBackend): Promise<boolean>;
}
