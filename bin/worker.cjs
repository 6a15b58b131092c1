'use strict';
// A worker thread of a run over many captures (--jobs): the CLI bundle, loaded
// with its code cache like the launcher, running its workerMain.
require('./load-cli.cjs').loadCli().cli.workerMain();
