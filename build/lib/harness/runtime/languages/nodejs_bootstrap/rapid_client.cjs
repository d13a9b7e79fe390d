// The three calls of aws-lambda-ric's native addon (src/native/rapid-client.cc), in JavaScript.
//
// next() resolves to {bodyJson, headers} with the same header names and types as the addon;
// done() and error() block until the Runtime API has answered, as the addon's curl calls do:
// the RIC relies on that (3.x calls process.exit right after posting the error of an uncaught
// exception), so they run on a helper thread while this one waits on an Atomics flag.
"use strict";
const http = require("node:http");
const { Worker, MessageChannel, receiveMessageOnPort } = require("node:worker_threads");

const [hostname, portText] = String(process.env.AWS_LAMBDA_RUNTIME_API || "").split(":");
const port = Number.parseInt(portText, 10);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const POST_WAIT_MS = 60_000;

const POSTER = `
const http = require("node:http");
const { workerData } = require("node:worker_threads");
const { hostname, port, flag, channel } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function finish(result) {
  channel.postMessage(result);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}
channel.on("message", ({ path, body, headers }) => {
  try {
    const req = http.request(
      { hostname, port, path, method: "POST", agent,
        headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body), ...headers } },
      (res) => { res.resume(); res.on("end", () => finish({ status: res.statusCode })); },
    );
    req.on("error", (err) => finish({ error: String(err) }));
    req.end(body);
  } catch (err) {
    finish({ error: String(err) });
  }
});
`;

const flag = new Int32Array(new SharedArrayBuffer(4));
const { port1: mine, port2: theirs } = new MessageChannel();
// Started now, during init, so the first invoke does not pay for the thread. Unreferenced: an
// idle poster must not keep the process alive (3.x finishes callback handlers on beforeExit).
const poster = new Worker(POSTER, {
  eval: true,
  workerData: { hostname, port, flag, channel: theirs },
  transferList: [theirs],
});
poster.unref();
mine.unref();

function postSync(path, body, headers) {
  Atomics.store(flag, 0, 0);
  mine.postMessage({ path, body, headers });
  Atomics.wait(flag, 0, 0, POST_WAIT_MS);
  // Like the addon, the outcome is not reported to the caller: the platform decides what follows.
  receiveMessageOnPort(mine);
}

const HEADER_NAMES = [
  "lambda-runtime-aws-request-id",
  "lambda-runtime-trace-id",
  "lambda-runtime-invoked-function-arn",
  "lambda-runtime-client-context",
  "lambda-runtime-cognito-identity",
  "lambda-runtime-aws-tenant-id",
];

function next() {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { hostname, port, path: "/2018-06-01/runtime/invocation/next", method: "GET", agent },
      (res) => {
        const chunks = [];
        res.on("data", (chunk) => chunks.push(chunk));
        res.on("end", () => {
          if (res.statusCode !== 200) {
            reject(new Error(`Failed to get next invocation, error ${res.statusCode}`));
            return;
          }
          const headers = { "lambda-runtime-deadline-ms": Number(res.headers["lambda-runtime-deadline-ms"]) };
          for (const name of HEADER_NAMES) {
            if (res.headers[name]) headers[name] = res.headers[name];
          }
          resolve({ bodyJson: Buffer.concat(chunks).toString("utf-8"), headers });
        });
      },
    );
    req.on("error", (err) => reject(new Error(`Failed to get next invocation, error ${err.code || err}`)));
    req.end();
  });
}

function done(id, body) {
  postSync(`/2018-06-01/runtime/invocation/${id}/response`, body, {});
  return null;
}

function error(id, body, _xray) {
  // The X-Ray cause header is left out: nothing local reads it.
  postSync(`/2018-06-01/runtime/invocation/${id}/error`, body, {});
  return null;
}

module.exports = { next, done, error };
