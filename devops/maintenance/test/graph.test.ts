import {
  buildPlan,
  CLEANUP_STEPS,
  criticalPath,
  estimateWallSeconds,
  GraphError,
  MAINTENANCE_STEPS,
  remainingSteps,
  resumableSteps,
  SUBSYSTEMS,
  validateGraph,
  waves,
} from "../src/index";

const step = (id: string, needs: string[] = [], estimateSeconds = 1, subsystem = id.split(".")[0]) => ({
  id,
  subsystem,
  needs,
  estimateSeconds,
});

describe("validateGraph", () => {
  // The engine runs these graphs without validating them again: this is where they are validated.
  it("accepts the maintenance graph, every cleanup graph, and every plan --only, --skip and --cleanup select", () => {
    expect(() => validateGraph(MAINTENANCE_STEPS)).not.toThrow();
    for (const steps of Object.values(CLEANUP_STEPS)) expect(() => validateGraph(steps)).not.toThrow();
    // Every non-empty subset of the subsystems, as bit masks 1 .. 2^n - 1.
    const selections = Array.from({ length: 2 ** SUBSYSTEMS.length - 1 }, (_, i) => SUBSYSTEMS.filter((__, bit) => ((i + 1) >> bit) & 1));
    expect(selections).toHaveLength(7);
    for (const mode of ["maintenance", "cleanup"] as const) {
      for (const subsystems of selections) {
        const plan = buildPlan(mode, subsystems);
        expect(() => validateGraph(plan.steps)).not.toThrow();
        for (const steps of Object.values(plan.cleanup)) expect(() => validateGraph(steps)).not.toThrow();
      }
    }
  });

  it.each([
    [[step("a.x", ["a.missing"])], /"a.x" needs unknown step "a.missing"/],
    [[step("a.x"), step("a.x")], /"a.x" is defined twice/],
    [[step("a.x", ["a.z"]), step("a.y", ["a.x"]), step("a.z", ["a.y"])], /cycle: a.x -> a.z -> a.y -> a.x/],
    [[step("a.x", ["a.x"])], /cycle: a.x -> a.x/],
    [[step("a.x"), step("b.y", ["a.x"])], /"b.y" \(b\) needs "a.x" of another subsystem \(a\)/],
  ])("rejects an invalid graph (%#)", (steps, message) => {
    expect(() => validateGraph(steps)).toThrow(GraphError);
    expect(() => validateGraph(steps)).toThrow(message);
  });
});

describe("the maintenance graph", () => {
  it("groups steps into waves: connects, then everything they unblock, then the db chain", () => {
    expect(waves(MAINTENANCE_STEPS).map((wave) => wave.map((s) => s.id))).toEqual([
      ["db.initClient", "kafka.initClient", "s3.initClient"],
      [
        "db.modifyIndexTriggers",
        "kafka.cleanTopic.user-events",
        "kafka.cleanTopic.stock-events",
        "kafka.cleanTopic.trade-events",
        "kafka.cleanTopic.notification-events",
        "kafka.cleanTopic.maintenance-events",
        "s3.moveLargeBlobsToGlacier",
        "s3.cleanUpOldBlobs",
      ],
      ["db.updateIndexes", "kafka.validateCleaned"],
      ["db.vacuumDatabase"],
      ["db.checkForDeadlocks"],
    ]);
  });

  it("has the db chain as its critical path: 21 s of the original's 59 s", () => {
    expect(criticalPath(MAINTENANCE_STEPS)).toEqual({
      seconds: 21,
      steps: ["db.initClient", "db.modifyIndexTriggers", "db.updateIndexes", "db.vacuumDatabase", "db.checkForDeadlocks"],
    });
    expect(MAINTENANCE_STEPS.reduce((sum, s) => sum + s.estimateSeconds, 0)).toBe(59);
  });

  it("estimates the schedule for a concurrency limit, critical path first", () => {
    expect(estimateWallSeconds(MAINTENANCE_STEPS, Infinity)).toBe(21);
    expect(estimateWallSeconds(MAINTENANCE_STEPS, 1)).toBe(59);
    // Two slots cannot do 59 s of work in under 29.5 s; longest-chain-first gets 30.
    expect(estimateWallSeconds(MAINTENANCE_STEPS, 2)).toBe(30);
  });
});

describe("resumableSteps", () => {
  const steps = [
    { ...step("db.init"), perProcess: true },
    step("db.a", ["db.init"]),
    step("db.b", ["db.a"]),
    { ...step("s3.init"), perProcess: true },
    step("s3.a", ["s3.init"]),
  ];

  it("skips completed steps but repeats a per-process step that a remaining step needs", () => {
    const completed = new Set(["db.init", "db.a", "s3.init", "s3.a"]);
    expect([...resumableSteps(steps, completed)].sort()).toEqual(["db.a", "s3.a", "s3.init"]);
  });

  it("skips nothing that the journal does not list", () => {
    expect(resumableSteps(steps, new Set())).toEqual(new Set());
  });
});

describe("remainingSteps", () => {
  it("drops resumed steps and makes their dependents wait for what the resumed steps waited for", () => {
    const steps = [
      { ...step("db.init"), perProcess: true },
      step("db.a", ["db.init"]),
      step("db.b", ["db.a"]),
      step("db.c", ["db.b", "db.a"]),
      step("s3.a"),
    ];
    expect(remainingSteps(steps, new Set(["db.a", "db.b", "s3.a"])).map((s) => [s.id, s.needs])).toEqual([
      ["db.init", []],
      ["db.c", ["db.init"]],
    ]);
    expect(remainingSteps(steps, new Set()).map((s) => s.needs)).toEqual(steps.map((s) => s.needs));
  });
});
