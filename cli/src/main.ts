#!/usr/bin/env node
// deployctl: the command-line client of the deploy API. See `deployctl --help`.
import { runDeployctl } from './run.js';

const interrupt = new AbortController();
process.once('SIGINT', () => interrupt.abort());
process.once('SIGTERM', () => interrupt.abort());

const code = await runDeployctl(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
  interactive: process.stdout.isTTY === true,
  signal: interrupt.signal,
});
// Exit once stdout is flushed instead of waiting for the event loop to drain, so that an
// idle keep-alive connection of fetch cannot hold the process open until the server
// closes it (after 72 s on the deploy API).
process.stdout.write('', () => process.exit(code));
