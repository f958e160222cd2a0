import { tempDirs as tempDirsWith } from '@papyra/test-support';

export { audit, codeOf, deadLetter, event } from '@papyra/test-support';

/** A fresh temp directory per test; `cleanup()` removes every one made. */
export const tempDirs = () => tempDirsWith('papyra-ndjson-');
