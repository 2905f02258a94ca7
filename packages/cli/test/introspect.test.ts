import { Processor, type Context } from "@pump/core";
import { describe, expect, it } from "vitest";
import { constructorParameters, positionalParameters } from "../src/introspect.js";

describe("reading a constructor's parameters from its class", () => {
  it("names, defaults and rest parameters, past strings, templates, comments and nested brackets", () => {
    class Tricky {
      static note = "constructor(fake, params)";
      label = `{ ${String([1, 2])} }`;
      constructor(
        first: string,
        /* a comment, with a comma */ second = { a: [1, 2], b: "x,y)" },
        third = (value: number): number => value * 2,
        { nested }: { nested?: string } = {},
        ...rest: unknown[]
      ) {
        void [first, second, third, nested, rest];
      }
      make(): unknown {
        return new (this.constructor as new (...args: unknown[]) => unknown)("a");
      }
    }
    expect(constructorParameters(Tricky)).toEqual([
      { name: "first", optional: false, rest: false },
      { name: "second", optional: true, rest: false },
      { name: "third", optional: true, rest: false },
      { name: "options", optional: true, rest: false },
      { name: "rest", optional: false, rest: true },
    ]);
    expect(positionalParameters(Tricky, "trigger")).toBeUndefined();
  });

  it("a class without a constructor of its own has its base class's; a method named like it is not taken", () => {
    class Base extends Processor<string, string> {
      process(_context: Context, text: string): string {
        return text;
      }
    }
    class Child extends Base {
      constructorLike(a: number, b: number): number {
        return a + b;
      }
    }
    expect(constructorParameters(Child)?.map((p) => p.name)).toEqual(["app", "pipeline", "options"]);
    expect(positionalParameters(Child, "processor")).toEqual([]);
    class Plain {
      readonly size = 1;
    }
    expect(constructorParameters(Plain)).toEqual([]);
  });
});
