'use strict';
// Settings shared by server.js and worker.js.

const QUEUE_NAME = 'exports';
// jobgate keeps a finished job for 72 hours (job-retention), so finished BullMQ jobs are kept as
// long. BullMQ removes them by age when later jobs finish.
const RETENTION_SECONDS = 72 * 3600;
const JOB_OPTIONS = {
  removeOnComplete: { age: RETENTION_SECONDS },
  removeOnFail: { age: RETENTION_SECONDS },
};

function redisOptions() {
  const port = Number(process.env.BENCH_REDIS_PORT);
  if (!port) {
    console.error('environment variable BENCH_REDIS_PORT is missing');
    process.exit(2);
  }
  return { host: '127.0.0.1', port };
}

module.exports = { JOB_OPTIONS, QUEUE_NAME, redisOptions };
