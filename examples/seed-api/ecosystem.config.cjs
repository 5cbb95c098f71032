module.exports = {
  apps: [
    { name: 'seed-api', script: 'src/index.js', env: { PORT: 3000 } },
    { name: 'seed-email-worker', script: 'src/workers/email-worker.js' },
  ],
};
