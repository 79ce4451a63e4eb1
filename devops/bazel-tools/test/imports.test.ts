import { classifyImport, importsOf, packageNameOf, typesPackageFor } from "../src/imports";

describe("importsOf", () => {
  it("finds every kind of import once, and nothing in strings or comments", () => {
    const source = [
      'import fs from "node:fs";',
      'import type { Request } from "express";',
      'export * from "./flaky";',
      'export { a } from "../src/a";',
      'const native = require("@bazel/buildifier/buildifier.js");',
      'const later = import("yaml");',
      'import t = require("typanion");',
      'import again from "express";',
      '// import ghost from "commented-out";',
      "const text = \"import fake from 'in-a-string'\";",
    ].join("\n");
    expect(importsOf(source)).toEqual([
      { kind: "builtin", specifier: "node:fs" },
      { kind: "package", specifier: "express", packageName: "express" },
      { kind: "relative", specifier: "./flaky" },
      { kind: "relative", specifier: "../src/a" },
      { kind: "package", specifier: "@bazel/buildifier/buildifier.js", packageName: "@bazel/buildifier" },
      { kind: "package", specifier: "yaml", packageName: "yaml" },
      { kind: "package", specifier: "typanion", packageName: "typanion" },
    ]);
  });
});

describe("classifyImport", () => {
  it.each([
    ["path", "builtin"],
    ["node:test", "builtin"],
    ["fs/promises", "builtin"],
    [".", "relative"],
    ["../x", "relative"],
    ["@monorepo/logger", "package"],
    ["pathlib", "package"],
  ])("%s is a %s import", (specifier, kind) => {
    expect(classifyImport(specifier).kind).toBe(kind);
  });
});

describe("package names", () => {
  it("strips subpaths, keeping scopes", () => {
    expect(packageNameOf("@scope/name/deep/file.js")).toBe("@scope/name");
    expect(packageNameOf("lodash/fp")).toBe("lodash");
  });

  it("names DefinitelyTyped packages the way npm publishes them", () => {
    expect(typesPackageFor("express")).toBe("@types/express");
    expect(typesPackageFor("@babel/core")).toBe("@types/babel__core");
  });
});
