import fs from "node:fs";
import path from "node:path";
import { loadTestTargets, parseTestTargets, TEST_TARGETS_FILE } from "../src";
import { makeWorkspace } from "./fixtures";

const why = "fails by design";

describe("test-targets.json", () => {
  it("gives flaky targets their attempts and every other target one", () => {
    const declared = parseTestTargets(
      JSON.stringify({
        "//services/user:test": { attempts: 4, why },
        "//devops/remote-cache:nginx_test": { files: ["test/server.test.ts"], tags: ["manual"], why: "needs the host" },
      }),
    );
    expect(declared.attemptsFor("//services/user:test")).toBe(4);
    expect(declared.isFlaky("//services/user:test")).toBe(true);
    expect(declared.flaky.map((t) => t.label)).toEqual(["//services/user:test"]);
    expect(declared.attemptsFor("//devops/remote-cache:nginx_test")).toBe(1);
    expect(declared.isFlaky("//devops/remote-cache:nginx_test")).toBe(false);
    expect(declared.attemptsFor("//services/trading:test")).toBe(1);
  });

  it("keeps tags, files and size, deduplicated and sorted", () => {
    const declared = parseTestTargets(
      JSON.stringify({
        "//a/b:host_test": { tags: ["manual", "local", "manual"], files: ["test/y.test.ts", "test/x.test.ts"], size: "large", why },
      }),
    );
    expect(declared.targets).toEqual([
      { label: "//a/b:host_test", tags: ["local", "manual"], files: ["test/x.test.ts", "test/y.test.ts"], size: "large", why },
    ]);
  });

  it("reads the root file, and declares nothing when there is none", () => {
    const root = makeWorkspace({ [TEST_TARGETS_FILE]: { "//a:test": { attempts: 3, why } } });
    expect(loadTestTargets(root).attemptsFor("//a:test")).toBe(3);
    fs.rmSync(path.join(root, TEST_TARGETS_FILE));
    expect(loadTestTargets(root).targets).toEqual([]);
  });

  it.each([
    ["not json", "{", /not valid JSON/],
    ["a list", "[]", /expected an object/],
    ["a bad label", JSON.stringify({ "services/user": { attempts: 3, why } }), /not a test label/],
    ["an entry that is no object", JSON.stringify({ "//a:test": 3 }), /must be an object/],
    ["an unknown field", JSON.stringify({ "//a:test": { attempts: 3, flaky: true, why } }), /flaky is not a field/],
    ["an entry declaring nothing", JSON.stringify({ "//a:test": { why } }), /declares nothing/],
    ["one attempt", JSON.stringify({ "//a:test": { attempts: 1, why } }), /integer from 2 to 10/],
    ["a fraction", JSON.stringify({ "//a:test": { attempts: 2.5, why } }), /integer from 2 to 10/],
    ["an unknown tag", JSON.stringify({ "//a:t": { tags: ["slow"], why } }), /tags must be a non-empty list/],
    ["no tags", JSON.stringify({ "//a:t": { tags: [], why } }), /tags must be a non-empty list/],
    ["a file outside test/", JSON.stringify({ "//a:t": { tags: ["manual"], files: ["src/x.ts"], why } }), /files must list test files/],
    ["an unknown size", JSON.stringify({ "//a:t": { tags: ["manual"], size: "huge", why } }), /size must be one of/],
    ["no reason", JSON.stringify({ "//a:test": { attempts: 3 } }), /why must say/],
  ])("rejects %s", (_case, text, message) => {
    expect(() => parseTestTargets(text)).toThrow(message);
  });
});
