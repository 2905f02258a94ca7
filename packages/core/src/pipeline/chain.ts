import type { ProcessorBase } from "../component/processor-base.js";
import type { Sink } from "../component/sink.js";

/** Any processor, generator or sink, whatever it takes and gives. */
// oxlint-disable-next-line no-explicit-any -- the widest component type; `unknown` would reject typed ones
export type AnyProcessor = ProcessorBase<any, any>;

/** Any sink, whatever it takes. */
// oxlint-disable-next-line no-explicit-any -- as AnyProcessor
export type AnySink = Sink<any>;

/** What a component takes (unknown when it declares nothing). */
export type InputOf<P> = P extends { readonly "~types"?: { in: (event: infer I) => void } } ? I : unknown;

/** What a component gives (unknown when it declares nothing). */
export type OutputOf<P> = P extends { readonly "~types"?: { out: () => infer O } } ? O : unknown;

/** An event of type `Out` may flow into a component that takes `In`; `unknown` output flows anywhere, as untyped BSPump code expects. */
type Flows<Out, In> = unknown extends Out ? true : [Out] extends [In] ? true : false;

/**
 * The chain `build()` accepts after a source of `In`: each component must take what the one before
 * it gives, and nothing may follow a sink. A wrong component is replaced by the type it should have
 * been, so the compiler points at it.
 */
export type Chain<In, Ps extends readonly unknown[]> = Ps extends readonly [infer Head, ...infer Tail]
  ? readonly [
      Flows<In, InputOf<Head>> extends true ? Head : ProcessorBase<In, unknown>,
      ...(Head extends { readonly kind: 2 } ? { [K in keyof Tail]: never } : Chain<OutputOf<Head>, Tail>),
    ]
  : readonly [];
