import { PapyraError } from '@papyra/persistence-contract';

export function invalidConfig(message: string, details: Record<string, unknown> = {}): PapyraError {
  return new PapyraError('PAPYRA_INVALID_CONFIG', message, { details });
}
