#!/usr/bin/env node
// The `msmoe` command line (see `msmoe --help`).
import { main } from './cli.js';

process.exitCode = await main(process.argv);
