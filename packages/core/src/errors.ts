import { PapyraError } from '@papyra/persistence-contract';

/** Codes thrown by the actor runtime, besides the contract's (`PAPYRA_INVALID_ARGUMENT`, `PAPYRA_STARTUP_*`). */
export type CoreErrorCode =
  | 'PAPYRA_ACTOR_STOPPED'
  | 'PAPYRA_ASK_TIMEOUT'
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

export function systemNotRunningError(systemId: string, state: string): PapyraError {
  return new PapyraError('PAPYRA_SYSTEM_NOT_RUNNING', `Actor system ${systemId} is ${state}; call start() first (and not after close()).`, {
    details: { systemId, state },
  });
}

export function mailboxFullError(address: string, capacity: number, overflow: string): PapyraError {
  return new PapyraError('PAPYRA_MAILBOX_FULL', `The mailbox of actor ${address} is full (${capacity}, overflow '${overflow}'); the message became a dead letter.`, {
    details: { address, capacity, overflow },
  });
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
