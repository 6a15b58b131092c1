#!/usr/bin/env node
'use strict';
// The CLI: one bundled file loaded with its code cache (see load-cli.cjs).
require('./load-cli.cjs').loadCli().cli.main(process.argv);
