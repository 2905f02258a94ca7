import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigFile } from "../../src/config/conf-file.js";
import { ConfigError } from "../../src/errors.js";

/** Writes `files` (relative path → text) into a fresh temp directory and returns it. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "pump-include-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function loadError(path: string): ConfigError {
  try {
    ConfigFile.load(path, { env: {} });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("[general] include", () => {
  it("reads listed files and globs relative to the including file, in place", () => {
    const root = tree({
      "site.conf": "[s]\nbefore = main\nshared = main-early\n[general]\ninclude = common.conf conf.d/*.conf\n[s]\nlate = main\n",
      "common.conf": "[s]\nbefore = common\ncommon = yes\nlate = common\n",
      "conf.d/b.conf": "[s]\nglob_b = yes\nshared = b\n",
      "conf.d/a.conf": "[s]\nglob_a = yes\nshared = a\n",
      "conf.d/ignored.txt": "[s]\nignored = yes\n",
    });
    const conf = ConfigFile.load(join(root, "site.conf"), { env: {} });
    // Included where declared: they override the keys above the include, the keys below override them.
    expect(conf.get("s", "before")).toBe("common");
    expect(conf.get("s", "late")).toBe("main");
    expect(conf.get("s", "common")).toBe("yes");
    expect(conf.get("s", "glob_a")).toBe("yes");
    expect(conf.get("s", "glob_b")).toBe("yes");
    // Glob matches are read in sorted order: b.conf after a.conf.
    expect(conf.get("s", "shared")).toBe("b");
    expect(conf.get("s", "ignored")).toBeUndefined();
    expect(conf.files).toEqual([join(root, "site.conf"), join(root, "common.conf"), join(root, "conf.d/a.conf"), join(root, "conf.d/b.conf")]);
  });

  it("reads the matches of one glob in sorted order, whatever order the glob finds them in", () => {
    const root = tree({
      "site.conf": "[general]\ninclude = conf.d/{b,a}.conf\n",
      "conf.d/a.conf": "[s]\nlast = a\n",
      "conf.d/b.conf": "[s]\nlast = b\n",
    });
    const conf = ConfigFile.load(join(root, "site.conf"));
    expect(conf.get("s", "last")).toBe("b");
    expect(conf.files.slice(1)).toEqual([join(root, "conf.d/a.conf"), join(root, "conf.d/b.conf")]);
  });

  it("accepts includes separated by newlines, and a glob matching nothing", () => {
    const root = tree({
      "site.conf": "[general]\ninclude =\n  one.conf\n  empty/*.conf\n  two.conf\n",
      "one.conf": "[one]\nk = 1\n",
      "two.conf": "[two]\nk = 2\n",
    });
    const conf = ConfigFile.load(join(root, "site.conf"));
    expect(conf.get("one", "k")).toBe("1");
    expect(conf.get("two", "k")).toBe("2");
  });

  it("follows nested includes relative to each including file, and interpolates the include list", () => {
    const root = tree({
      "site.conf": "[general]\ninclude = ${CONF_SUBDIR}/mid.conf\n",
      "sub/mid.conf": "[general]\ninclude = deeper/leaf.conf\n[mid]\nk = m\n",
      "sub/deeper/leaf.conf": "[leaf]\nk = l\nwhere = $THIS_DIR\n",
    });
    const conf = ConfigFile.load(join(root, "site.conf"), { env: { CONF_SUBDIR: "sub" } });
    expect(conf.get("mid", "k")).toBe("m");
    expect(conf.get("leaf", "k")).toBe("l");
    expect(conf.get("leaf", "where")).toBe(join(root, "sub/deeper"));
    expect(conf.locate("leaf", "k")).toEqual({ file: join(root, "sub/deeper/leaf.conf"), line: 2, section: "leaf", key: "k" });
  });

  it("includes each file at most once, so include cycles end", () => {
    const root = tree({
      "site.conf": "[general]\ninclude = a.conf a.conf b.conf\n[count]\nmain = 1\n",
      "a.conf": "[general]\ninclude = b.conf site.conf\n[count]\na = 1\n",
      "b.conf": "[general]\ninclude = a.conf\n[count]\nb = 1\n",
    });
    const conf = ConfigFile.load(join(root, "site.conf"));
    expect(conf.files).toEqual([join(root, "site.conf"), join(root, "a.conf"), join(root, "b.conf")]);
    expect(conf.keys("count").toSorted()).toEqual(["a", "b", "main"]);
  });

  it("fails on a missing included file, naming it and the include line", () => {
    const root = tree({ "site.conf": "[general]\n\ninclude = nope.conf\n" });
    const error = loadError(join(root, "site.conf"));
    expect(error.code).toBe("PUMP_CONFIG_FILE");
    expect(error.location).toEqual({ file: join(root, "site.conf"), line: 3, section: "general", key: "include" });
    expect(error.message).toContain(`cannot read included file '${join(root, "nope.conf")}' (ENOENT`);
  });

  it("reports errors inside an included file with that file's name and line", () => {
    const root = tree({ "site.conf": "[general]\ninclude = bad.conf\n", "bad.conf": "[s]\n\nnot a key\n" });
    const error = loadError(join(root, "site.conf"));
    expect(error.location).toEqual({ file: join(root, "bad.conf"), line: 3 });
  });
});
