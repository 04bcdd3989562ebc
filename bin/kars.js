#!/usr/bin/env node
// `npx kars ...`: runs the compiled CLI (npm run build puts it in dist/).
'use strict';
require('../dist/cli/main.js').main();
