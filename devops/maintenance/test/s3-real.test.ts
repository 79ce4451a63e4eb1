import { join } from "node:path";
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { AwsS3Client, createSimulatedIntegrations } from "@monorepo/integrations";
import { type ProxiedRequest, type S3Server, startRecordingProxy, startS3Server } from "@monorepo/local-servers";
import { buildPlan, runPlan } from "../src";
import { spawnCli, tempDir } from "./helpers";

/** moto is a Python program: on a busy machine it takes seconds to start. */
jest.setTimeout(120_000);

const DAY_MS = 24 * 60 * 60 * 1000;

let server: S3Server;
let observer: S3Client;
const savedEnv = { ...process.env };
let bucketCount = 0;

beforeAll(async () => {
  server = await startS3Server();
  Object.assign(process.env, server.env, { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" });
  // Straight to the server, whatever endpoint a test gives the client under test.
  observer = new S3Client({ forcePathStyle: true, endpoint: server.endpoint });
});

afterAll(async () => {
  observer?.destroy();
  process.env = savedEnv;
  await server?.stop();
});

async function bucketWith(keys: Record<string, number>): Promise<string> {
  bucketCount += 1;
  const bucket = `maintenance-run-${bucketCount}`;
  await observer.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const [key, size] of Object.entries(keys)) {
    await observer.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.alloc(size, 1) }));
  }
  return bucket;
}

async function objects(bucket: string): Promise<Record<string, string>> {
  const listed = await observer.send(new ListObjectsV2Command({ Bucket: bucket }));
  return Object.fromEntries((listed.Contents ?? []).map((object) => [object.Key!, object.StorageClass ?? "STANDARD"]));
}

function isDeleteObjects(request: ProxiedRequest): boolean {
  return request.method === "POST" && /[?&]delete(=|&|$)/.test(request.url);
}

describe("maintenance's S3 steps on a real S3 API (moto)", () => {
  it("a server that goes away mid-step: the step is retried, fails, S3 cleans up, nothing is reported done; the rerun finishes", async () => {
    const bucket = await bucketWith({ "old-1": 10, "old-2": 10 });
    let gone = false;
    let wentAway = false;
    const proxy = await startRecordingProxy(server.endpoint, (request) => {
      // The server goes away as the first deletion reaches it, and stays away until the rerun.
      if (isDeleteObjects(request) && !wentAway) {
        wentAway = true;
        gone = true;
      }
      return gone ? "drop" : "forward";
    });
    process.env.AWS_ENDPOINT_URL_S3 = proxy.endpoint;
    const s3 = new AwsS3Client({ bucket, now: new Date(Date.now() + 40 * DAY_MS), thresholds: { blobRetentionDays: 30 } });
    const clients = { ...createSimulatedIntegrations({ SIMULATION_TIME_SCALE: "0" }), s3 };
    const options = { maxAttempts: 3, backoff: { initialDelayMs: 1, maxDelayMs: 5 }, timeoutMs: () => 60_000 };
    try {
      const failed = await runPlan(buildPlan("maintenance", ["s3"]), clients, options);

      expect(failed.status).toBe("failed");
      expect(failed.subsystems.s3).toMatchObject({ status: "failed", cleanup: { reason: "failed", status: "failed" } });
      const cleanUp = failed.steps.find((step) => step.id === "s3.cleanUpOldBlobs")!;
      expect(cleanUp).toMatchObject({ status: "failed", attempts: 3 });
      expect(cleanUp.errors).toHaveLength(3);
      for (const error of cleanUp.errors) expect(error).toContain(`s3.cleanUpOldBlobs on bucket ${bucket}`);
      expect(failed.subsystems.s3.cleanup!.steps.map((step) => [step.id, step.status])).toEqual([
        ["s3.cleanup.initClient", "succeeded"],
        ["s3.cleanup.stopHungUploads", "failed"],
      ]);
      expect(proxy.requests.filter(isDeleteObjects).every((request) => !request.forwarded)).toBe(true);
      expect(await objects(bucket)).toEqual({ "old-1": "STANDARD", "old-2": "STANDARD" });

      gone = false;
      proxy.requests.length = 0;
      const rerun = await runPlan(buildPlan("maintenance", ["s3"]), clients, options);
      expect(rerun.status).toBe("succeeded");
      expect(await objects(bucket)).toEqual({});
    } finally {
      process.env.AWS_ENDPOINT_URL_S3 = server.endpoint;
      s3.destroy();
      await proxy.stop();
    }
  });

  it("--dry-run names the bucket and where it is", async () => {
    const bucket = await bucketWith({});
    const run = await spawnCli(["--dry-run", "--only", "s3"], { ...server.env, MAINTENANCE_S3_BUCKET: bucket, XDG_STATE_HOME: tempDir() });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Backends: s3 real (S3 bucket ${bucket} at ${server.endpoint}).`);
  });

  it("the CLI works on the bucket MAINTENANCE_S3_BUCKET names, with the thresholds its options give", async () => {
    const bucket = await bucketWith({ large: 4096, small: 100 });
    const upload = await observer.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "stuck" }));
    const initiated = (await observer.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads![0].Initiated!;
    // The cleanup's verdict rests on the server's date for the upload: it must be past the age given.
    expect(Date.now() - initiated.getTime()).toBeGreaterThan(2 * DAY_MS);
    const state = tempDir();
    const env = { ...server.env, MAINTENANCE_S3_BUCKET: bucket, SIMULATION_TIME_SCALE: "0", XDG_STATE_HOME: state };

    const run = await spawnCli(["--only", "s3", "--large-blob-size", "1KB"], env);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    expect(await objects(bucket)).toEqual({ large: "GLACIER", small: "STANDARD" });

    const cleanup = await spawnCli(["--cleanup", "--only", "s3", "--hung-upload-age", "2d", "--journal", join(state, "journal.json")], env);
    expect({ code: cleanup.code, stderr: cleanup.stderr }).toEqual({ code: 0, stderr: "" });
    const left = await observer.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect((left.Uploads ?? []).map((entry) => entry.UploadId)).not.toContain(upload.UploadId);
  });
});
