#!/usr/bin/env node
// packcheck is written in TypeScript and runs through tsx (a dependency).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../harness/cli.ts');
process.exitCode = await main(process.argv.slice(2));
