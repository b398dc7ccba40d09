#!/usr/bin/env node
// The installed `catena` command runs the compiled CLI; build it with `npm run build`.
import '../dist/cli/main.js'
