/**
 * Deliberately flaky, and kept that way (the pipeline must contain it): it stands for a
 * test that depends on a slow, unreliable upstream - it waits 5 s of simulated
 * time, then that upstream fails about one run in four. The pipeline has to
 * contain flakes like this (retry the whole //services/user:test target, count
 * and report every flake; see test-targets.json), so the test must stay
 * genuinely random: no seed, no jest.retryTimes. It lives alone in this file so
 * the flake is never confused with a real failure in the other user tests.
 * SIMULATION_TIME_SCALE scales the wait (CI sets 0.01); at the default 1 it waits 5 s.
 */

import { type RunningServer, startServer } from "@monorepo/service";
import { scaledMs, simulatedDelay } from "@monorepo/simulation";
import { memoryLogger } from "@monorepo/testing";
import { createApp } from "../src";

const UPSTREAM_SECONDS = 5;
const UPSTREAM_FAILURE_RATE = 0.25;

/** The simulated upstream: slow, and unavailable about a quarter of the time. */
async function callSlowUpstream(): Promise<void> {
  await simulatedDelay(UPSTREAM_SECONDS);
  if (Math.random() < UPSTREAM_FAILURE_RATE) throw new Error(`simulated upstream failed after ${UPSTREAM_SECONDS} s`);
}

let running: RunningServer;
const { logger } = memoryLogger("slow-upstream");

beforeAll(async () => {
  running = await startServer(createApp({ users: {}, logger }), { port: 0, host: "127.0.0.1", logger });
});
afterAll(() => running.shutdown());

it(
  "serves the user API once the slow upstream has answered (fails ~25% of runs by design)",
  async () => {
    await callSlowUpstream();
    const response = await fetch(`${running.url}/`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ message: "User Service API" });
  },
  // The jest default (5 s) would time the 5 s wait out at scale 1.
  scaledMs(UPSTREAM_SECONDS) + 5_000,
);
