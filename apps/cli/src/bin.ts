import { main } from './cli.js';

const code = await main(process.argv.slice(2));
// Exit once stdout has drained: the store is closed by now, and a driver's lingering timer
// (a reconnect attempt, a connect timeout) must not keep the command alive.
process.stdout.write('', () => process.exit(code));
