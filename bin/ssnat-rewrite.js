#!/usr/bin/env node
// The CLI: one bundled file loaded with its code cache (see load-cli.js).
import { loadCli } from './load-cli.js';

await loadCli().cli.main(process.argv);
