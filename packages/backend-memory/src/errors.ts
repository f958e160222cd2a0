import { PapyraError } from '@papyra/persistence-contract';

/** A record handed to the method of another kind (e.g. an audit to `recordEvent`). */
export function wrongKindError(method: string, expected: string, actual: unknown): PapyraError {
  return new PapyraError('PAPYRA_INVALID_RECORD', `${method}() takes a record of kind '${expected}', got ${JSON.stringify(actual)}.`, {
    details: { method, expected, actual },
  });
}

export function abortedError(operation: string, reason: unknown): PapyraError {
  return new PapyraError('PAPYRA_ABORTED', `The memory backend's ${operation} was aborted.`, { cause: reason });
}
