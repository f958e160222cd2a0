#!/usr/bin/env node
// Committed entry so pnpm can link the bin before the first build.
import '../dist/bin.js';
