import { parseFlakyPolicy } from "../src";

const why = "fails by design";

describe("flaky policy", () => {
  it("gives declared targets their attempts and every other target one", () => {
    const policy = parseFlakyPolicy(JSON.stringify({ "//services/user:test": { attempts: 4, why } }));
    expect(policy.attemptsFor("//services/user:test")).toBe(4);
    expect(policy.isFlaky("//services/user:test")).toBe(true);
    expect(policy.attemptsFor("//services/trading:test")).toBe(1);
    expect(policy.isFlaky("//services/trading:test")).toBe(false);
  });

  it.each([
    ["not json", "{", /not valid JSON/],
    ["a list", "[]", /expected an object/],
    ["a bad label", JSON.stringify({ "services/user": { attempts: 3, why } }), /not a test label/],
    ["one attempt", JSON.stringify({ "//a:test": { attempts: 1, why } }), /integer from 2 to 10/],
    ["a fraction", JSON.stringify({ "//a:test": { attempts: 2.5, why } }), /integer from 2 to 10/],
    ["no reason", JSON.stringify({ "//a:test": { attempts: 3 } }), /must say why/],
  ])("rejects %s", (_case, text, message) => {
    expect(() => parseFlakyPolicy(text)).toThrow(message);
  });
});
