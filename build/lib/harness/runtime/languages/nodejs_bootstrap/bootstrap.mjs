// The harness's stand-in for AWS's /var/runtime/index.mjs: start AWS's runtime interface client
// (npm `aws-lambda-ric`, argv[2]) for the function named by _HANDLER in LAMBDA_TASK_ROOT.
//
// Two things the managed runtime has that the npm package lacks are supplied here, and nothing
// else is changed:
// 1. The RIC's native addon (rapid-client.node) is built by an install script, which the harness
//    never runs: `./rapid-client.node` resolves to rapid_client.cjs beside this file, the same
//    three calls (next, done, error) over the same Runtime API.
// 2. ES module imports of bare names fall back to the NODE_PATH folders (layers, the bundled AWS
//    SDK), as the Lambda Node.js runtime resolves them since nodejs18.x.
import Module, { register } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ricDir = path.resolve(process.argv[2]);
const entry = process.argv[3]; // "index.mjs" (4.x starts itself) or "dist/index.mjs" (3.x exports run)
const clientPath = fileURLToPath(new URL("./rapid_client.cjs", import.meta.url));

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  if (request === "./rapid-client.node" && parent?.filename?.startsWith(ricDir + path.sep)) {
    return clientPath;
  }
  return resolveFilename.call(this, request, parent, ...rest);
};

const nodePath = (process.env.NODE_PATH || "").split(path.delimiter).filter(Boolean);
if (typeof register === "function" && nodePath.length) {
  register(new URL("./node_path_hooks.mjs", import.meta.url), { data: { dirs: nodePath } });
}

// The harness's own arguments are not the function's business (AWS runs index.mjs without any).
process.argv.splice(2);

const ric = await import(pathToFileURL(path.join(ricDir, entry)).href);
if (typeof ric.run === "function") {
  await ric.run(process.env.LAMBDA_TASK_ROOT, process.env._HANDLER);
}
