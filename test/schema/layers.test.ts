// What the layering promises and a tool cannot see: resolvers read, services write, and the
// repository speaks for itself (no path into a directory a clone does not have).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

function filesUnder(directory: string, extensions: readonly string[]): string[] {
  return readdirSync(join(root, directory)).flatMap((name) => {
    const path = join(directory, name);
    if (statSync(join(root, path)).isDirectory()) return name === "generated" ? [] : filesUnder(path, extensions);
    return extensions.some((extension) => name.endsWith(extension)) ? [path] : [];
  });
}

/** Lines of `files` that match `pattern`, as `file:line: text`. */
function matching(files: readonly string[], pattern: RegExp): string[] {
  return files.flatMap((file) =>
    readFileSync(join(root, file), "utf8")
      .split("\n")
      .flatMap((line, index) => (pattern.test(line) ? [`${relative(root, join(root, file))}:${index + 1}: ${line.trim()}`] : [])),
  );
}

describe("layers", () => {
  it("src/schema writes nothing: no transaction, raw SQL or Prisma write (services own them)", () => {
    const writes = /\$transaction|\$queryRaw|\$executeRaw|\.(create|createMany|update|updateMany|upsert|delete|deleteMany)\(/;
    expect(matching(filesUnder("src/schema", [".ts"]), writes)).toEqual([]);
  });

  it("README, docs and code name no file outside the repository", () => {
    const files = ["README.md", ...filesUnder("docs", [".md"]), ...filesUnder("src", [".ts"]), ...filesUnder("bench", [".ts"])];
    expect(matching(files, /\.\.\/shared|SPEC\.md|contract\.graphql/)).toEqual([]);
  });
});
