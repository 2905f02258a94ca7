/**
 * BSPump has `FileBatchLookupProvider` in `bspump.file`; in @pump it lives in core, because every
 * lookup whose `source_url` is a path uses it (and that makes the lookup a master). It is exported here
 * too, as the same class, so code written against BSPump's layout finds it where it expects.
 */
export { FileBatchLookupProvider } from "@pump/core";
