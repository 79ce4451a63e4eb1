import {
  AwsS3Client,
  createIntegrations,
  DEFAULT_S3_THRESHOLDS,
  parseBlobSize,
  parseDuration,
  SimulatedS3Client,
  s3BucketFromEnv,
} from "../src";

describe("parseBlobSize", () => {
  it.each([
    ["100MB", 100 * 1024 ** 2],
    ["1.5GB", 1.5 * 1024 ** 3],
    ["512 kb", 512 * 1024],
    ["2048", 2048],
    ["5TB", 5 * 1024 ** 4],
  ])("reads %s as %d bytes", (text, expected) => {
    expect(parseBlobSize(text)).toBe(expected);
  });

  it.each(["100M", "1e3", "0", "-5MB", "MB", "100 MiB", ""])("rejects %j", (text) => {
    expect(parseBlobSize(text)).toBeUndefined();
  });
});

describe("parseDuration", () => {
  it.each([
    ["24h", 24 * 3600 * 1000],
    ["90m", 90 * 60 * 1000],
    ["2d", 2 * 24 * 3600 * 1000],
    ["2 days", 2 * 24 * 3600 * 1000],
  ])("reads %s as %d ms", (text, expected) => {
    expect(parseDuration(text)).toBe(expected);
  });

  it.each(["100", "0h", "soon", "", "-1h"])("rejects %j", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe("real or simulated S3", () => {
  it("has documented defaults: 30 days, 100MB, 24h", () => {
    expect(DEFAULT_S3_THRESHOLDS).toEqual({ blobRetentionDays: 30, largeBlobBytes: 100 * 1024 ** 2, hungUploadAgeMs: 24 * 3600 * 1000 });
  });

  it("is real only when MAINTENANCE_S3_BUCKET names a bucket", () => {
    expect(s3BucketFromEnv({})).toBeUndefined();
    expect(s3BucketFromEnv({ MAINTENANCE_S3_BUCKET: "  " })).toBeUndefined();
    expect(createIntegrations({}).s3).toBeInstanceOf(SimulatedS3Client);

    const integrations = createIntegrations({ MAINTENANCE_S3_BUCKET: "blobs" }, { s3: { blobRetentionDays: 7 } });
    expect(integrations.s3).toBeInstanceOf(AwsS3Client);
    const s3 = integrations.s3 as AwsS3Client;
    expect(s3.bucket).toBe("blobs");
    expect(s3.thresholds).toEqual({ ...DEFAULT_S3_THRESHOLDS, blobRetentionDays: 7 });
    s3.destroy();
  });
});
