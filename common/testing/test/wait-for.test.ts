import { waitFor } from "../src";

describe("waitFor", () => {
  it("polls until something turns up and resolves with it", async () => {
    let calls = 0;
    const found = await waitFor(() => (++calls === 3 ? { record: "late" } : undefined));
    expect(found).toEqual({ record: "late" });
    expect(calls).toBe(3);
  });

  it("treats false as not yet, so a condition resolves true once it holds", async () => {
    let calls = 0;
    await expect(waitFor(() => ++calls > 2)).resolves.toBe(true);
    expect(calls).toBe(3);
  });

  it("keeps other falsy values: 0 and an empty string are found", async () => {
    await expect(waitFor(() => 0)).resolves.toBe(0);
    await expect(waitFor(() => "")).resolves.toBe("");
  });

  it("rejects once timeoutMs has passed without a find", async () => {
    let calls = 0;
    await expect(
      waitFor(() => {
        calls++;
        return undefined;
      }, 50),
    ).rejects.toThrow("nothing found within 50 ms");
    expect(calls).toBeGreaterThan(1);
  });
});
