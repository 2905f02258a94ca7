#!/usr/bin/env node
// The `pump` command: pump run FILE | pump check FILE | pump list (see cli.ts).
import { main } from "./cli.js";

process.exitCode = await main(process.argv.slice(2));
