// ES module resolution hook: a bare specifier that Node's own lookup (node_modules upward from
// the importing file) cannot find is looked up in each NODE_PATH folder in order, so handlers
// import layer packages and the runtime's AWS SDK as they do on Lambda.
import path from "node:path";
import { pathToFileURL } from "node:url";

let dirs = [];

export async function initialize(data) {
  dirs = data?.dirs ?? [];
}

function isBare(specifier) {
  return !/^(\.{0,2}\/|[a-zA-Z][a-zA-Z0-9+.-]*:)/.test(specifier);
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (err) {
    if (err?.code !== "ERR_MODULE_NOT_FOUND" || !isBare(specifier)) throw err;
    for (const dir of dirs) {
      // For a parent file inside `dir`, Node's lookup walks up to `<parent of dir>/node_modules`,
      // which is `dir` itself (NODE_PATH entries are node_modules folders).
      const parentURL = pathToFileURL(path.join(dir, "__harness_node_path__.mjs")).href;
      try {
        return await nextResolve(specifier, { ...context, parentURL });
      } catch (inner) {
        if (inner?.code !== "ERR_MODULE_NOT_FOUND") throw inner;
      }
    }
    throw err;
  }
}
