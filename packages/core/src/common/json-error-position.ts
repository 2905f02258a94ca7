/**
 * Where JSON text stops being valid: the offset of the first character JSON.parse cannot take (the
 * text's length when it ends too early). V8 names the position in most of its messages but not in
 * all ("Unexpected token 'x', ... is not valid JSON"), so the JSON parsers find it themselves, on
 * failure only. Returns -1 for valid JSON.
 */
export function jsonErrorPosition(text: string): number {
  let i = 0;
  const n = text.length;
  const ws = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i++;
    }
  };
  const literal = (word: string): boolean => {
    for (let k = 0; k < word.length; k++, i++) if (text[i] !== word[k]) return false;
    return true;
  };
  const digits = (): boolean => {
    const start = i;
    while (i < n && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
    return i > start;
  };
  const number = (): boolean => {
    if (text[i] === "-") i++;
    if (text[i] === "0") i++;
    else if (!digits()) return false;
    if (text[i] === ".") {
      i++;
      if (!digits()) return false;
    }
    if (text[i] === "e" || text[i] === "E") {
      i++;
      if (text[i] === "+" || text[i] === "-") i++;
      if (!digits()) return false;
    }
    return true;
  };
  const string = (): boolean => {
    i++; // the opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return true;
      }
      if (c < 0x20) return false;
      if (c === 0x5c) {
        i++;
        const e = text[i];
        if (e === "u") {
          for (let k = 1; k <= 4; k++) if (!/[0-9a-fA-F]/.test(text[i + k] ?? "")) return (i += k), false;
          i += 5;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i++;
        else return false;
      } else i++;
    }
    return false;
  };
  const value = (): boolean => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") return i++, true;
      for (;;) {
        ws();
        if (text[i] !== '"' || !string()) return false;
        ws();
        if (text[i] !== ":") return false;
        i++;
        if (!value()) return false;
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "}") return i++, true;
        else return false;
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") return i++, true;
      for (;;) {
        if (!value()) return false;
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "]") return i++, true;
        else return false;
      }
    }
    if (c === '"') return string();
    if (c === "t") return literal("true");
    if (c === "f") return literal("false");
    if (c === "n") return literal("null");
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return number();
    return false;
  };
  if (!value()) return Math.min(i, n);
  ws();
  return i < n ? i : -1;
}

/** "position 7 (line 1, column 8)" for an offset in `text`. */
export function describePosition(text: string, position: number): string {
  let line = 1;
  let lineStart = 0;
  for (let k = 0; k < position && k < text.length; k++) {
    if (text.charCodeAt(k) === 0x0a) {
      line++;
      lineStart = k + 1;
    }
  }
  return `position ${position} (line ${line}, column ${position - lineStart + 1})`;
}
