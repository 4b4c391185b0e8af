#!/usr/bin/env node
// Development launcher: runs the TypeScript CLI from src/ through tsx's loader, with no build step
// (the tests use it). The package's own `xenvm-emu` bin is the compiled dist/cli.js (npm run build).
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/main.ts');
