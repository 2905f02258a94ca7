import { describe, expect, it } from "vitest";
import { collectDefaults, type ConfigValues } from "../../src/config/config.js";
import { ConfigError } from "../../src/errors.js";

describe("collectDefaults", () => {
  // Components are classes with instance members; `id` stands in for them.
  class Base {
    static ConfigDefaults: ConfigValues = { size: 1, name: "base", base_only: true };
    readonly id = "base";
  }
  class Middle extends Base {
    static override ConfigDefaults: ConfigValues = { size: 2, middle_only: "m" };
  }
  class Derived extends Middle {
    static override ConfigDefaults: ConfigValues = { size: 3, name: "derived" };
  }

  it("merges down a three-level chain: the most derived class wins, base keys are kept", () => {
    expect(collectDefaults(Derived)).toEqual({ size: 3, name: "derived", base_only: true, middle_only: "m" });
    expect(collectDefaults(Middle)).toEqual({ size: 2, name: "base", base_only: true, middle_only: "m" });
    expect(collectDefaults(Base)).toEqual({ size: 1, name: "base", base_only: true });
  });

  it("inherits the defaults of a class that declares none, without merging them twice", () => {
    class Plain extends Middle {}
    expect(collectDefaults(Plain)).toEqual(collectDefaults(Middle));
    class NoDefaults {
      readonly id = "none";
    }
    expect(collectDefaults(NoDefaults)).toEqual({});
  });

  it("caches the result per class and freezes it", () => {
    const first = collectDefaults(Derived);
    expect(collectDefaults(Derived)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it("rejects a null or undefined default, naming the class and key", () => {
    class NullDefault extends Base {
      static override ConfigDefaults = { host: null } as unknown as ConfigValues;
    }
    class UndefinedDefault {
      static ConfigDefaults = { port: undefined };
      readonly id = "undefined";
    }
    let caught: unknown;
    try {
      collectDefaults(NullDefault);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).code).toBe("PUMP_CONFIG");
    expect((caught as ConfigError).message).toBe("key 'host': NullDefault.ConfigDefaults: the default of 'host' is null; give a string, number or boolean");
    expect(() => collectDefaults(UndefinedDefault)).toThrow("the default of 'port' is undefined");
  });

  it("rejects an object default", () => {
    class ObjectDefault {
      static ConfigDefaults = { list: ["a"] };
      readonly id = "object";
    }
    expect(() => collectDefaults(ObjectDefault)).toThrow("the default of 'list' is object");
  });
});
