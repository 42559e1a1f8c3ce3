// Bluesky's reference PDS (@atproto/pds) with its own PLC directory (@did-plc/server), for the
// Bluesky publishing tests:
//
//   node tests/pds/server.mjs <plc-port> <pds-port> <data-directory>
//
// Both listen on 127.0.0.1 only. The PLC directory keeps its DIDs in memory
// (Database.mock(), as atproto's own dev-env does), so nothing is shared between runs or
// pytest workers; the PDS keeps its SQLite files and blobs under <data-directory>.
// There is no AppView, relay or email: app.bsky.* reads fail here as they would on a PDS
// cut off from Bluesky, which is what the publisher must not depend on.
// Prints "pds ready <url>" once both answer. The header "x-ratelimit-bypass: sandpit-tests"
// passes the rate limits (tests/pds/__init__.py sends it for the tests' own set-up).
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { PDS, envToCfg, envToSecrets, readEnv } from '@atproto/pds';
import plc from '@did-plc/server';

const [plcPort, pdsPort, dataDirectory] = process.argv.slice(2);
if (!plcPort || !pdsPort || !dataDirectory) {
  console.error('usage: node server.mjs <plc-port> <pds-port> <data-directory>');
  process.exit(2);
}

const directory = plc.PlcServer.create({ db: plc.Database.mock(), port: Number(plcPort) });
// PlcServer.start listens on every interface; these tests want loopback only.
directory.server = directory.app.listen(Number(plcPort), '127.0.0.1');
await new Promise((resolve) => directory.server.once('listening', resolve));

mkdirSync(join(dataDirectory, 'blobs'), { recursive: true });
const hex = () => randomBytes(32).toString('hex');
Object.assign(process.env, {
  // "localhost" makes the PDS call itself http://localhost:<port> and give handles under
  // .test (envToCfg), instead of https and its hostname.
  PDS_HOSTNAME: 'localhost',
  PDS_PORT: pdsPort,
  PDS_DATA_DIRECTORY: dataDirectory,
  PDS_BLOBSTORE_DISK_LOCATION: join(dataDirectory, 'blobs'),
  PDS_DID_PLC_URL: `http://127.0.0.1:${plcPort}`,
  PDS_JWT_SECRET: hex(),
  PDS_DPOP_SECRET: hex(),
  PDS_ADMIN_PASSWORD: 'admin',
  PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: hex(),
  PDS_REPO_SIGNING_KEY_K256_PRIVATE_KEY_HEX: hex(),
  PDS_INVITE_REQUIRED: 'false',
  // The PDS's own rate limits, kept in memory, as Sandpit meets them at bsky.social. The
  // tests' own set-up (accounts, app passwords, looking at repositories) sends this key
  // to pass them, so only Sandpit's requests count.
  PDS_RATE_LIMITS_ENABLED: 'true',
  PDS_RATE_LIMIT_BYPASS_KEY: 'sandpit-tests',
  // Dev mode allows plain http and loopback addresses (no SSRF protection) and makes the
  // PDS validate its own responses against the lexicons.
  PDS_DEV_MODE: 'true',
  LOG_ENABLED: process.env.LOG_ENABLED ?? 'false',
});
const env = readEnv();
const pds = await PDS.create(envToCfg(env), envToSecrets(env));
// PDS.start listens on every interface too: the same again.
await pds.ctx.sequencer.start();
pds.server = pds.app.listen(Number(pdsPort), '127.0.0.1');
await new Promise((resolve) => pds.server.once('listening', resolve));

console.log(`pds ready http://127.0.0.1:${pdsPort}`);

// Nothing to save: the data directory is thrown away with the run. Exit at once rather
// than wait out open keep-alive connections.
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
