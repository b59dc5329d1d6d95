'use strict';
// A BullMQ worker that finishes every export job at once with an empty result, so that
// tests/bench can read the status of DONE jobs. It runs until SIGTERM.
//
// Environment: BENCH_REDIS_PORT.

const { Worker } = require('bullmq');
const { QUEUE_NAME, redisOptions } = require('./settings');

// BullMQ requires maxRetriesPerRequest: null on a Worker's connection, because its blocking
// commands must wait through reconnects.
const worker = new Worker(QUEUE_NAME, async () => ({ rowsProcessed: 0, rowsTotal: 0 }), {
  connection: { ...redisOptions(), maxRetriesPerRequest: null },
  concurrency: 16,
});
worker.on('error', (error) => console.error(`worker error: ${error.message}`));
worker.on('failed', (job, error) => console.error(`job ${job && job.id} failed: ${error.message}`));
worker.waitUntilReady().then(() => console.log('ready'));
process.on('SIGTERM', () => {
  worker.close().finally(() => process.exit(0));
});
