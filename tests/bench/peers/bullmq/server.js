'use strict';
// BullMQ behind node:http with jobgate's submit and status routes, for tests/bench.
//
//   POST /v1/exports     validates the export request, adds it to the "exports" queue and
//                        responds 202 with the job resource and a Location header
//   GET  /v1/jobs/{id}   responds 200 with the job resource, or 404
//
// Both routes require "Authorization: Bearer $BENCH_API_KEY". The primary process forks
// BENCH_HTTP_PROCESSES HTTP processes with node:cluster. Each one opens one ioredis connection at
// start and reuses it for every request. The primary prints "ready" once all of them listen.
//
// Environment: BENCH_HTTP_PORT, BENCH_REDIS_PORT, BENCH_API_KEY, BENCH_HTTP_PROCESSES.

const cluster = require('node:cluster');
const http = require('node:http');
const { Queue } = require('bullmq');
const IORedis = require('ioredis');
const { JOB_OPTIONS, QUEUE_NAME, redisOptions } = require('./settings');

const MAX_BODY_BYTES = 64 * 1024;
const FORMATS = new Set(['csv', 'json']);
// BullMQ states as jobgate's job statuses.
const STATUSES = {
  waiting: 'PENDING',
  delayed: 'PENDING',
  prioritized: 'PENDING',
  'waiting-children': 'PENDING',
  active: 'RUNNING',
  completed: 'DONE',
  failed: 'FAILED',
};

function requiredEnv(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`server.js: environment variable ${name} is missing`);
    process.exit(2);
  }
  return value;
}

function respondJson(response, status, document, headers = {}) {
  const body = JSON.stringify(document);
  response.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    ...headers,
  });
  response.end(body);
}

function respondProblem(response, status, detail) {
  respondJson(response, status, { status, detail });
}

// Returns an error message for an invalid export request, or null.
function validateExport(request) {
  if (request === null || typeof request !== 'object' || Array.isArray(request)) {
    return 'The body must be a JSON object.';
  }
  if (typeof request.name !== 'string' || request.name.length > 200) {
    return 'name must be a string of at most 200 characters.';
  }
  if (typeof request.objectType !== 'string' || request.objectType.length === 0) {
    return 'objectType must be a non-empty string.';
  }
  if (!Array.isArray(request.properties) || request.properties.length === 0
      || !request.properties.every((property) => typeof property === 'string')) {
    return 'properties must be a non-empty array of strings.';
  }
  if (!FORMATS.has(request.format)) {
    return 'format must be "csv" or "json".';
  }
  return null;
}

function isoTime(milliseconds) {
  return milliseconds ? new Date(milliseconds).toISOString() : null;
}

function jobResource(job, state, baseUrl) {
  const resource = {
    id: job.id,
    kind: 'exports',
    name: job.data.name,
    objectType: job.data.objectType,
    status: STATUSES[state] || 'PENDING',
    createdAt: isoTime(job.timestamp),
    startedAt: isoTime(job.processedOn),
    completedAt: isoTime(job.finishedOn),
    attempts: job.attemptsMade,
    progress: job.progress,
  };
  if (state === 'completed') {
    resource.result = job.returnvalue;
  } else if (state === 'failed') {
    resource.error = job.failedReason;
  }
  resource.links = { self: `${baseUrl}/v1/jobs/${job.id}` };
  return resource;
}

// Resolves to the body as text, or to null when it is larger than MAX_BODY_BYTES.
function readBody(request) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    request.on('data', (chunk) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) {
        chunks.push(chunk);
      }
    });
    request.on('end', () => {
      resolve(size <= MAX_BODY_BYTES ? Buffer.concat(chunks).toString('utf8') : null);
    });
    request.on('error', reject);
  });
}

async function submitExport(queue, request, response, baseUrl) {
  const text = await readBody(request);
  if (text === null) {
    respondProblem(response, 413, `The body is larger than ${MAX_BODY_BYTES} bytes.`);
    return;
  }
  let document;
  try {
    document = JSON.parse(text);
  } catch (error) {
    respondProblem(response, 400, `The body is not valid JSON: ${error.message}`);
    return;
  }
  const invalid = validateExport(document);
  if (invalid) {
    respondProblem(response, 400, invalid);
    return;
  }
  let job;
  try {
    job = await queue.add('export', document);
  } catch (error) {
    // With enableOfflineQueue off, a lost Redis connection fails here at once.
    console.error(`queue.add failed: ${error.message}`);
    respondProblem(response, 503, 'The job queue is unavailable.');
    return;
  }
  const resource = jobResource(job, 'waiting', baseUrl);
  respondJson(response, 202, resource, { Location: resource.links.self, 'Retry-After': '1' });
}

async function readJob(queue, id, response, baseUrl) {
  let job;
  let state;
  try {
    [job, state] = await Promise.all([queue.getJob(id), queue.getJobState(id)]);
  } catch (error) {
    console.error(`reading job ${id} failed: ${error.message}`);
    respondProblem(response, 503, 'The job store is unavailable.');
    return;
  }
  if (!job || state === 'unknown') {
    respondProblem(response, 404, `Job ${id} not found.`);
    return;
  }
  respondJson(response, 200, jobResource(job, state, baseUrl));
}

function serve(queue, apiKey) {
  const expectedAuthorization = `Bearer ${apiKey}`;
  return async (request, response) => {
    if (request.headers.authorization !== expectedAuthorization) {
      respondProblem(response, 401, 'A valid API key is required.');
      return;
    }
    const baseUrl = `http://${request.headers.host || '127.0.0.1'}`;
    if (request.method === 'POST' && request.url === '/v1/exports') {
      await submitExport(queue, request, response, baseUrl);
    } else if (request.method === 'GET' && request.url.startsWith('/v1/jobs/')) {
      const id = decodeURIComponent(request.url.slice('/v1/jobs/'.length));
      await readJob(queue, id, response, baseUrl);
    } else {
      respondProblem(response, 404, `No route for ${request.method} ${request.url}.`);
    }
  };
}

async function startHttpProcess() {
  const port = Number(requiredEnv('BENCH_HTTP_PORT'));
  const apiKey = requiredEnv('BENCH_API_KEY');
  // BullMQ's guide on failing fast recommends enableOfflineQueue: false for a Queue behind an
  // HTTP API, so a request fails with 503 when Redis is unreachable instead of waiting.
  const connection = new IORedis({ ...redisOptions(), enableOfflineQueue: false });
  const queue = new Queue(QUEUE_NAME, { connection, defaultJobOptions: JOB_OPTIONS });
  queue.on('error', (error) => console.error(`queue error: ${error.message}`));
  await queue.waitUntilReady();
  const handle = serve(queue, apiKey);
  const server = http.createServer((request, response) => {
    handle(request, response).catch((error) => {
      console.error(`request failed: ${error.stack}`);
      if (!response.headersSent) {
        respondProblem(response, 500, 'Internal error.');
      }
    });
  });
  server.keepAliveTimeout = 60000;
  server.listen(port, '127.0.0.1', () => process.send('listening'));
  process.on('SIGTERM', () => {
    server.close();
    queue.close().finally(() => connection.quit().finally(() => process.exit(0)));
  });
}

function startPrimary() {
  const processes = Number(requiredEnv('BENCH_HTTP_PROCESSES'));
  let listening = 0;
  let stopping = false;
  for (let index = 0; index < processes; index += 1) {
    const worker = cluster.fork();
    worker.on('message', (message) => {
      if (message === 'listening') {
        listening += 1;
        if (listening === processes) {
          console.log(`ready: ${processes} HTTP processes on port ${process.env.BENCH_HTTP_PORT}`);
        }
      }
    });
  }
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) {
      console.error(`HTTP process ${worker.process.pid} exited (code ${code}, signal ${signal})`);
      process.exit(1);
    }
  });
  process.on('SIGTERM', () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers)) {
      worker.process.kill('SIGTERM');
    }
    // Exits once every HTTP process has exited.
    cluster.on('exit', () => {
      if (Object.keys(cluster.workers).length === 0) {
        process.exit(0);
      }
    });
  });
}

if (cluster.isPrimary) {
  startPrimary();
} else {
  startHttpProcess().catch((error) => {
    console.error(`HTTP process failed to start: ${error.stack}`);
    process.exit(1);
  });
}
