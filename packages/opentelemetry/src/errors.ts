import { PapyraError } from '@papyra/persistence-contract';

export function invalidConfig(message: string): PapyraError {
  return new PapyraError('PAPYRA_INVALID_CONFIG', message);
}
