// The package's __init__.py: what `blank` offers to the entry point.
export { BlankAppApplication } from "./app.ts";
