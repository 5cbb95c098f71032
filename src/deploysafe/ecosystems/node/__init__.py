"""Node.js: JavaScript and TypeScript, as Node (and tsx, ts-node, tsc) load them."""
