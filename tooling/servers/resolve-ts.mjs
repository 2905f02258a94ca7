// `node --import <this file>?root=<package folder> script.ts` (see `sourceImport()` in process.js): runs a
// TypeScript file against a package's sources, as its README example is tested. Node strips the types
// itself; this hook maps the package's own name ("@pump/file") to its src/index.ts, and the `.js`
// specifiers the sources use (TypeScript's nodenext convention) to the `.ts` files that exist.
import { existsSync, readFileSync } from "node:fs";
import { registerHooks } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = new URL(import.meta.url).searchParams.get("root");
if (root === null) throw new Error("resolve-ts.mjs: import it with ?root=<the package's folder>");
const name = JSON.parse(readFileSync(new URL("package.json", pathToFileURL(`${root}/`)), "utf8")).name;
const index = new URL("src/index.ts", pathToFileURL(`${root}/`)).href;

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier === name) return nextResolve(index, context);
    if (/^\.{1,2}\//.test(specifier) && specifier.endsWith(".js") && context.parentURL?.endsWith(".ts")) {
      const url = new URL(specifier, context.parentURL);
      if (!existsSync(fileURLToPath(url))) return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
    }
    return nextResolve(specifier, context);
  },
});
