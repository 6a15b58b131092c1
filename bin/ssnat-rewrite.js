#!/usr/bin/env node
// The CLI, bundled into one file for a fast start (see scripts/bundle-cli.mjs).
import { main } from '../dist/ssnat-rewrite.mjs';

await main(process.argv);
