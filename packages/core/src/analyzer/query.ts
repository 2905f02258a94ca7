import { isDeepStrictEqual } from "node:util";
import { ConfigError } from "../errors.js";

/** A MongoDB-style query over an event (the subset BSPump's mongoquery users write in latch queries). */
export type Query = Readonly<Record<string, unknown>>;

export type Matcher = (document: unknown) => boolean;

type FieldTest = (value: unknown, present: boolean) => boolean;

const MISSING = Symbol("missing");

function invalid(message: string): never {
  throw new ConfigError(`invalid query: ${message}`, {}, "PUMP_CONFIG_VALUE");
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof RegExp);
}

function resolvePath(document: unknown, path: string): unknown {
  let current: unknown = document;
  for (const part of path.split(".")) {
    if (Array.isArray(current) && /^\d+$/.test(part)) current = current[Number(part)];
    else if (isPlainObject(current) && Object.hasOwn(current, part)) current = current[part];
    else return MISSING;
    if (current === undefined) return MISSING;
  }
  return current;
}

function equals(value: unknown, expected: unknown): boolean {
  if (expected === null) return value === null || value === MISSING;
  if (value === MISSING) return false;
  if (isDeepStrictEqual(value, expected)) return true;
  return Array.isArray(value) && value.some((item) => isDeepStrictEqual(item, expected));
}

function compare(value: unknown, operand: unknown, test: (order: number) => boolean): boolean {
  const one = (item: unknown): boolean => {
    if (typeof item === "number" && typeof operand === "number") return test(item - operand);
    if (typeof item === "string" && typeof operand === "string") return test(item < operand ? -1 : item > operand ? 1 : 0);
    return false;
  };
  return one(value) || (Array.isArray(value) && value.some(one));
}

function regexOf(pattern: unknown, options: unknown): RegExp {
  if (pattern instanceof RegExp) return pattern;
  if (typeof pattern !== "string") invalid(`$regex needs a string or a RegExp, got ${typeof pattern}`);
  if (options !== undefined && typeof options !== "string") invalid("$options must be a string");
  try {
    return new RegExp(pattern, options);
  } catch (error) {
    return invalid(`$regex '${pattern}': ${(error as Error).message}`);
  }
}

function operatorTest(operator: string, operand: unknown, all: Record<string, unknown>): FieldTest | undefined {
  switch (operator) {
    case "$eq":
      return (value) => equals(value, operand);
    case "$ne":
      return (value) => !equals(value, operand);
    case "$gt":
      return (value) => compare(value, operand, (order) => order > 0);
    case "$gte":
      return (value) => compare(value, operand, (order) => order >= 0);
    case "$lt":
      return (value) => compare(value, operand, (order) => order < 0);
    case "$lte":
      return (value) => compare(value, operand, (order) => order <= 0);
    case "$in":
      if (!Array.isArray(operand)) invalid("$in needs an array");
      return (value) => operand.some((item) => equals(value, item));
    case "$nin":
      if (!Array.isArray(operand)) invalid("$nin needs an array");
      return (value) => !operand.some((item) => equals(value, item));
    case "$exists":
      return (_value, present) => present === Boolean(operand);
    case "$size":
      if (typeof operand !== "number") invalid("$size needs a number");
      return (value) => Array.isArray(value) && value.length === operand;
    case "$all":
      if (!Array.isArray(operand)) invalid("$all needs an array");
      return (value) => operand.every((item) => equals(value, item));
    case "$regex": {
      const regex = regexOf(operand, all.$options);
      const one = (item: unknown): boolean => typeof item === "string" && (regex.lastIndex = 0, regex.test(item));
      return (value) => one(value) || (Array.isArray(value) && value.some(one));
    }
    case "$options":
      if (!("$regex" in all)) invalid("$options without $regex");
      return () => true;
    case "$not": {
      const inner = isPlainObject(operand) ? fieldTest(operand) : operand instanceof RegExp ? operatorTest("$regex", operand, {}) : invalid("$not needs an operator object or a RegExp");
      return (value, present) => !inner!(value, present);
    }
    default:
      return undefined;
  }
}

function fieldTest(condition: unknown): FieldTest {
  if (condition instanceof RegExp) return operatorTest("$regex", condition, {})!;
  if (!isPlainObject(condition)) return (value) => equals(value, condition);
  const keys = Object.keys(condition);
  const operators = keys.filter((key) => key.startsWith("$"));
  if (operators.length === 0) return (value) => equals(value, condition);
  if (operators.length !== keys.length) invalid(`cannot mix operators and fields in ${JSON.stringify(condition)}`);
  const tests = operators.map((operator) => operatorTest(operator, condition[operator], condition) ?? invalid(`unknown operator '${operator}'`));
  return (value, present) => tests.every((test) => test(value, present));
}

/** Compiles a query into a matcher; an unknown operator or a malformed operand is a ConfigError now, not at the first event. */
export function compileQuery(query: Query): Matcher {
  if (!isPlainObject(query)) invalid(`a query is an object, got ${Array.isArray(query) ? "an array" : typeof query}`);
  const parts: Matcher[] = Object.entries(query).map(([key, condition]): Matcher => {
    if (key === "$and" || key === "$or" || key === "$nor") {
      if (!Array.isArray(condition) || condition.length === 0) invalid(`${key} needs a non-empty array of queries`);
      const matchers = condition.map((sub) => compileQuery(sub as Query));
      if (key === "$and") return (document) => matchers.every((match) => match(document));
      if (key === "$or") return (document) => matchers.some((match) => match(document));
      return (document) => !matchers.some((match) => match(document));
    }
    if (key.startsWith("$")) invalid(`unknown top-level operator '${key}'`);
    const test = fieldTest(condition);
    return (document) => {
      const value = resolvePath(document, key);
      return test(value, value !== MISSING);
    };
  });
  return (document) => parts.every((match) => match(document));
}
