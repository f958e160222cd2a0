/** Any method: the backend drives a client as the ioredis client it is, so only names are checked. */
type Method = (...args: never[]) => unknown;

/**
 * What the backend (and the consumer-group helpers) need of a client you pass in: an ioredis 5.x
 * or 6.x `Redis` or `Cluster` is one. Typed by shape rather than by ioredis's classes, so your own
 * ioredis copy, whichever supported version, fits (no TS2322, no second copy for the types). The
 * signatures differ between ioredis versions, so only the methods' presence is checked.
 */
export interface RedisClientLike {
  /** `'wait' | 'connecting' | 'ready' | …` (ioredis's connection status). */
  readonly status: string;
  /** True for an ioredis `Cluster`. */
  readonly isCluster?: boolean;
  on: Method;
  off: Method;
  connect: Method;
  duplicate: Method;
  quit: Method;
  disconnect: Method;
  ping: Method;
  pipeline: Method;
  multi: Method;
  callBuffer: Method;
  xrangeBuffer: Method;
  xdel: Method;
  xtrim: Method;
  xgroup: Method;
  xack: Method;
  xpending: Method;
}
