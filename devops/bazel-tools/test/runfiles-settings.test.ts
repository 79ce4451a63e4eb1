import { attemptsFor, readTestSettings, testEnvironment } from "../src/runfiles/test-settings";
import { makeWorkspace } from "./fixtures";

const settingsOf = (bazelrc: string) => readTestSettings(makeWorkspace({ ".bazelrc": bazelrc }));

describe("what bazel test takes from .bazelrc", () => {
  it("gives each target the attempts of the first --flaky_test_attempts filter that matches its label", () => {
    const settings = settingsOf(
      [
        "test --flaky_test_attempts=//services/user:test$@5",
        "test --flaky_test_attempts=//common/.*,-//common/logger@2",
        "test:ci --flaky_test_attempts=9",
        "test --flaky_test_attempts=//devops@default",
      ].join("\n"),
    );
    expect(attemptsFor(settings, "//services/user:test", true)).toBe(5);
    expect(attemptsFor(settings, "//services/user:test_more", false)).toBe(1);
    expect(attemptsFor(settings, "//common/files:test", false)).toBe(2);
    expect(attemptsFor(settings, "//common/logger:test", false)).toBe(1);
    expect(attemptsFor(settings, "//devops/pipeline:test", true)).toBe(3);
  });

  it("retries every test when a bare number is given, and flaky ones 3 times by default", () => {
    expect(attemptsFor(settingsOf("common --flaky_test_attempts=4\n"), "//any:test", false)).toBe(4);
    expect(attemptsFor(settingsOf(""), "//any:test", true)).toBe(3);
    expect(attemptsFor(settingsOf(""), "//any:test", false)).toBe(1);
  });

  it("passes --test_env values, and takes a bare name from the caller's environment", () => {
    const settings = settingsOf(
      "test --test_env=SIMULATION_TIME_SCALE=0.01 --test_env=GIVEN --test_env=MISSING\nbuild --test_env=IGNORED=1\n",
    );
    expect(testEnvironment(settings, { GIVEN: "yes" })).toEqual({ SIMULATION_TIME_SCALE: "0.01", GIVEN: "yes" });
  });
});
