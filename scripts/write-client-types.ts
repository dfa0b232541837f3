import { writeFile } from "node:fs/promises";
import { clientTypesSource } from "./client-types.js";

/** `npm run client-types`: src/client/api-types.ts, the TypeScript client's types, from the OpenAPI document. */
const target = new URL("../src/client/api-types.ts", import.meta.url);
await writeFile(target, await clientTypesSource());
console.log(`wrote ${target.pathname}`);
