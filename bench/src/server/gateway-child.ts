// The gateway under load, in its own process (as in production): `node gateway-child.js`, prints its URL.
import { startGateway } from '@baton/serve';
import { trivialCatalogue } from './trivial.js';

const server = await startGateway({ port: 0, catalogue: trivialCatalogue(), log: () => {} });
process.stdout.write(`READY ${server.url}\n`);
process.once('SIGTERM', () => {
  void server.close({ graceMs: 1_000 }).then(() => process.exit(0));
});
