import { PapyraError } from '@papyra/persistence-contract';

/** Codes thrown by the actor runtime, besides the contract's (`PAPYRA_INVALID_ARGUMENT`, `PAPYRA_STARTUP_*`). */
export type CoreErrorCode =
  | 'PAPYRA_ACTOR_STOPPED'
  | 'PAPYRA_ASK_TIMEOUT'
  | 'PAPYRA_TELL_TIMEOUT'
  | 'PAPYRA_ABORTED'
  | 'PAPYRA_SYSTEM_NOT_RUNNING'
  | 'PAPYRA_MAILBOX_FULL'
  | 'PAPYRA_ACTOR_NOT_FOUND'
  | 'PAPYRA_NAME_TAKEN'
  | 'PAPYRA_INVALID_ARGUMENT';

export function actorStoppedError(address: string): PapyraError {
  return new PapyraError('PAPYRA_ACTOR_STOPPED', `Actor ${address} is stopping or stopped; the message became a dead letter.`, {
    details: { address },
  });
}

export function askTimeoutError(address: string, timeoutMs: number): PapyraError {
  return new PapyraError('PAPYRA_ASK_TIMEOUT', `Actor ${address} did not reply within ${timeoutMs} ms.`, { details: { address, timeoutMs } });
}

export function tellTimeoutError(address: string, timeoutMs: number): PapyraError {
  return new PapyraError('PAPYRA_TELL_TIMEOUT', `The mailbox of actor ${address} had no room within ${timeoutMs} ms; the message became a dead letter.`, {
    details: { address, timeoutMs },
  });
}

export function abortedError(address: string, reason: unknown): PapyraError {
  return new PapyraError('PAPYRA_ABORTED', `The message to actor ${address} was aborted by its signal.`, { cause: reason, details: { address } });
}

export function systemNotRunningError(systemId: string, state: string): PapyraError {
  return new PapyraError('PAPYRA_SYSTEM_NOT_RUNNING', `Actor system ${systemId} is ${state}; call start() first (and not after close()).`, {
    details: { systemId, state },
  });
}

export function mailboxFullError(address: string, capacity: number, overflow: string): PapyraError {
  return new PapyraError(
    'PAPYRA_MAILBOX_FULL',
    `The mailbox of actor ${address} is full (${capacity}, overflow '${overflow}'); the message became a dead letter.`,
    {
      details: { address, capacity, overflow },
    },
  );
}

export function actorNotFoundError(what: string): PapyraError {
  return new PapyraError('PAPYRA_ACTOR_NOT_FOUND', `No live actor ${what}.`, { details: { actor: what } });
}

export function nameTakenError(name: string): PapyraError {
  return new PapyraError('PAPYRA_NAME_TAKEN', `An actor named ${JSON.stringify(name)} is already running.`, { details: { name } });
}

export function invalidArgument(message: string, details: Record<string, unknown> = {}): PapyraError {
  return new PapyraError('PAPYRA_INVALID_ARGUMENT', message, { details });
}

type OptionError = 'PAPYRA_INVALID_CONFIG' | 'PAPYRA_INVALID_ARGUMENT';

/**
 * A duration option in ms: a finite number ≥ 0 (> 0 unless `zero`), or `Infinity` where `unlimited`
 * allows it. Durations above 2^31 − 1 ms are fine: timers.ts chains them.
 */
export function checkDuration(
  name: string,
  value: unknown,
  { zero = false, unlimited = false, code = 'PAPYRA_INVALID_CONFIG' }: { zero?: boolean; unlimited?: boolean; code?: OptionError } = {},
): number {
  const ok =
    typeof value === 'number' && !Number.isNaN(value) && (zero ? value >= 0 : value > 0) && (Number.isFinite(value) || (unlimited && value === Infinity));
  if (!ok) {
    const expected = `${zero ? 'a number ≥ 0' : 'a positive number'} of milliseconds${unlimited ? ' or Infinity' : ' (finite)'}`;
    throw new PapyraError(code, `${name} must be ${expected}, got ${String(value)}.`, { details: { option: name, value: String(value) } });
  }
  return value;
}

/** A count option: an integer ≥ `min`. */
export function checkCount(name: string, value: unknown, min: number, code: OptionError = 'PAPYRA_INVALID_CONFIG'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new PapyraError(code, `${name} must be an integer ≥ ${min}, got ${String(value)}.`, { details: { option: name, value: String(value) } });
  }
  return value;
}
