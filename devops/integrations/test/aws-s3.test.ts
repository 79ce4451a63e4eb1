import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  S3Client,
  type StorageClass,
} from "@aws-sdk/client-s3";
import { type ProxiedRequest, type RecordingProxy, type S3Server, startRecordingProxy, startS3Server } from "@monorepo/local-servers";
import { AwsS3Client, type AwsS3ClientOptions, IntegrationError, MAX_KEYS_PER_DELETE, NotConnectedError } from "../src";

/** moto is a Python program: on a busy machine it takes seconds to start, and thousands of objects take a while. */
jest.setTimeout(120_000);

const DAY_MS = 24 * 60 * 60 * 1000;

let server: S3Server;
/** Sees what the tests set up and what the client under test did, directly in the server. */
let observer: S3Client;
const savedEnv = { ...process.env };
let bucketCount = 0;

beforeAll(async () => {
  server = await startS3Server();
  // The SDK reads its endpoint, region and credentials from these, as it does for an operator.
  Object.assign(process.env, server.env, { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" });
  // Straight to the server, whatever endpoint a test gives the client under test.
  observer = new S3Client({ forcePathStyle: true, endpoint: server.endpoint });
});

afterAll(async () => {
  observer?.destroy();
  process.env = savedEnv;
  await server?.stop();
});

const proxies: RecordingProxy[] = [];
const clients: AwsS3Client[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  for (const proxy of proxies.splice(0)) await proxy.stop();
  process.env.AWS_ENDPOINT_URL_S3 = server.endpoint;
});

async function newBucket(): Promise<string> {
  bucketCount += 1;
  const bucket = `maintenance-test-${bucketCount}`;
  await observer.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

/** A connected client, through a recording proxy when one is given (until the test ends). */
async function connectedClient(options: AwsS3ClientOptions, proxy?: RecordingProxy): Promise<AwsS3Client> {
  process.env.AWS_ENDPOINT_URL_S3 = proxy?.endpoint ?? server.endpoint;
  const client = new AwsS3Client(options);
  clients.push(client);
  await client.initClient();
  return client;
}

async function proxy(intercept?: Parameters<typeof startRecordingProxy>[1]): Promise<RecordingProxy> {
  const started = await startRecordingProxy(server.endpoint, intercept);
  proxies.push(started);
  return started;
}

async function put(bucket: string, key: string, size = 10, storageClass?: StorageClass): Promise<void> {
  await observer.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: Buffer.alloc(size, key),
      StorageClass: storageClass,
      Metadata: { origin: key },
    }),
  );
}

/** Puts the keys, a few at a time. */
async function putMany(bucket: string, keys: string[], size = 10): Promise<void> {
  const queue = [...keys];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let key = queue.shift(); key !== undefined; key = queue.shift()) await put(bucket, key, size);
    }),
  );
}

interface Listed {
  key: string;
  lastModified: Date;
  storageClass: string;
  size: number;
  etag: string;
}

async function list(bucket: string): Promise<Map<string, Listed>> {
  const objects = new Map<string, Listed>();
  for await (const page of paginateListObjectsV2({ client: observer }, { Bucket: bucket })) {
    for (const object of page.Contents ?? []) {
      objects.set(object.Key!, {
        key: object.Key!,
        lastModified: object.LastModified!,
        storageClass: object.StorageClass ?? "STANDARD",
        size: object.Size!,
        etag: object.ETag!,
      });
    }
  }
  return objects;
}

function isDeleteObjects(request: ProxiedRequest): boolean {
  return request.method === "POST" && /[?&]delete(=|&|$)/.test(request.url);
}

function isListObjects(request: ProxiedRequest): boolean {
  return request.method === "GET" && /[?&]list-type=2(&|$)/.test(request.url);
}

function isCopyObject(request: ProxiedRequest): boolean {
  return request.method === "PUT" && request.headers["x-amz-copy-source"] !== undefined;
}

function keysIn(request: ProxiedRequest): number {
  return request.body.toString().match(/<Key>/g)?.length ?? 0;
}

/**
 * Puts `newKeys` until the server dates each of them later than every object already in the bucket,
 * and returns the earliest of their dates: S3 dates to the second, so keys put in the same second as
 * the older ones are put again until the server's own clock has moved on.
 */
async function putNewerThanExisting(bucket: string, newKeys: string[]): Promise<Date> {
  const before = await list(bucket);
  const newest = Math.max(...[...before.values()].map((object) => object.lastModified.getTime()));
  for (;;) {
    await putMany(bucket, newKeys);
    const after = await list(bucket);
    const dates = newKeys.map((key) => after.get(key)!.lastModified.getTime());
    if (Math.min(...dates) > newest) return new Date(Math.min(...dates));
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe("AwsS3Client against a real S3 API (moto)", () => {
  it("deletes only blobs past retention, at most 1,000 keys a DeleteObjects call, and a rerun changes nothing", async () => {
    const bucket = await newBucket();
    const oldKeys = Array.from({ length: MAX_KEYS_PER_DELETE + 37 }, (_, i) => `old/${String(i).padStart(5, "0")}`);
    await putMany(bucket, oldKeys);
    const newKeys = ["young/a", "young/b", "young/c"];
    const firstNew = await putNewerThanExisting(bucket, newKeys);
    // The cutoff is exactly the earliest new blob's date: a blob at the cutoff is not older, so it stays.
    const now = new Date(firstNew.getTime() + 30 * DAY_MS);
    const recorder = await proxy();
    const client = await connectedClient({ bucket, now, thresholds: { blobRetentionDays: 30 } }, recorder);

    await client.cleanUpOldBlobs();

    expect([...(await list(bucket)).keys()].sort()).toEqual(newKeys);
    const deletes = recorder.requests.filter(isDeleteObjects);
    expect(deletes.map(keysIn)).toEqual([MAX_KEYS_PER_DELETE, 37]);
    // Page by page: the first batch goes before the next page is asked for, so memory holds one page
    // and one batch however large the bucket.
    const work = recorder.requests.filter((request) => isDeleteObjects(request) || isListObjects(request));
    expect(work.map((request) => (isDeleteObjects(request) ? "delete" : "list"))).toEqual(["list", "delete", "list", "delete"]);

    const requestsBefore = recorder.requests.length;
    await client.cleanUpOldBlobs();
    expect(recorder.requests.slice(requestsBefore).filter(isDeleteObjects)).toEqual([]);
    expect([...(await list(bucket)).keys()].sort()).toEqual(newKeys);
  });

  // moto refuses a key of DeleteObjects only for a locked version, which a delete by key never names:
  // the proxy answers in its place as S3 does when it refuses keys (HTTP 200, an Error per key).
  it("fails naming the keys the service refuses to delete, and a rerun deletes them once it accepts", async () => {
    const bucket = await newBucket();
    await putMany(bucket, ["held/a", "held/b", "held/c"]);
    let refuse = true;
    const recorder = await proxy((request) => {
      if (!(refuse && isDeleteObjects(request))) return "forward";
      const keys = [...request.body.toString().matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) => match[1]);
      const errors = keys.map((key) => `<Error><Key>${key}</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`);
      return { status: 200, headers: { "content-type": "application/xml" }, body: `<DeleteResult>${errors.join("")}</DeleteResult>` };
    });
    const client = await connectedClient({ bucket, now: new Date(Date.now() + 40 * DAY_MS) }, recorder);

    await expect(client.cleanUpOldBlobs()).rejects.toThrow(
      "s3.cleanUpOldBlobs: 3 old blobs were not deleted: held/a (AccessDenied: Access Denied), held/b (AccessDenied: Access Denied), held/c (AccessDenied: Access Denied)",
    );
    expect((await list(bucket)).size).toBe(3);

    refuse = false;
    await client.cleanUpOldBlobs();
    expect((await list(bucket)).size).toBe(0);
  });

  it("moves large blobs to Glacier in place, keeping content and metadata; leaves small, cold and expiring ones; a rerun copies nothing", async () => {
    const bucket = await newBucket();
    await put(bucket, "large-1", 4096);
    await put(bucket, "dir/large 2+", 2048);
    await put(bucket, "small", 1023);
    await put(bucket, "already-cold", 4096, "DEEP_ARCHIVE");
    const before = await list(bucket);
    const thresholds = { largeBlobBytes: 1024, blobRetentionDays: 30 };

    // Forty days on, every blob is past retention: cleanUpOldBlobs deletes them, so none is copied.
    const later = await proxy();
    const afterRetention = await connectedClient({ bucket, thresholds, now: new Date(Date.now() + 40 * DAY_MS) }, later);
    await afterRetention.moveLargeBlobsToGlacier();
    expect(later.requests.filter(isCopyObject)).toEqual([]);
    expect(await list(bucket)).toEqual(before);

    const recorder = await proxy();
    const client = await connectedClient({ bucket, thresholds }, recorder);
    await client.moveLargeBlobsToGlacier();

    const after = await list(bucket);
    expect(Object.fromEntries([...after.values()].map((object) => [object.key, object.storageClass]))).toEqual({
      "large-1": "GLACIER",
      "dir/large 2+": "GLACIER",
      small: "STANDARD",
      "already-cold": "DEEP_ARCHIVE",
    });
    expect(after.get("small")).toEqual(before.get("small"));
    expect(after.get("already-cold")).toEqual(before.get("already-cold"));
    // A Glacier blob cannot be read until restored: its size, checksum and metadata show the copy kept it whole.
    for (const key of ["large-1", "dir/large 2+"]) {
      const head = await observer.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      expect({ size: head.ContentLength, etag: head.ETag, metadata: head.Metadata }).toEqual({
        size: before.get(key)!.size,
        etag: before.get(key)!.etag,
        metadata: { origin: key },
      });
    }
    expect(recorder.requests.filter(isCopyObject)).toHaveLength(2);

    const requestsBefore = recorder.requests.length;
    await client.moveLargeBlobsToGlacier();
    expect(recorder.requests.slice(requestsBefore).filter(isCopyObject)).toEqual([]);
    expect(await list(bucket)).toEqual(after);
  });

  // A blob replaced between the listing and its copy is guarded by CopySourceIfMatch, which moto
  // ignores: only the deletion can be shown here.
  it("skips a blob deleted between the listing and its copy, and moves the rest", async () => {
    const bucket = await newBucket();
    await put(bucket, "deleted-meanwhile", 2048);
    await put(bucket, "unchanged", 2048);
    const recorder = await proxy(async (request): Promise<"forward"> => {
      // Another writer (or cleanUpOldBlobs) deletes it right before the copy reaches the server.
      if (isCopyObject(request) && request.url.includes("deleted-meanwhile")) {
        await observer.send(new DeleteObjectCommand({ Bucket: bucket, Key: "deleted-meanwhile" }));
      }
      return "forward";
    });
    const client = await connectedClient({ bucket, thresholds: { largeBlobBytes: 1024 } }, recorder);

    await client.moveLargeBlobsToGlacier();

    expect(recorder.requests.filter(isCopyObject)).toHaveLength(2);
    const after = await list(bucket);
    expect(Object.fromEntries([...after.values()].map((object) => [object.key, object.storageClass]))).toEqual({ unchanged: "GLACIER" });
  });

  // The copy names the ETag it listed; S3 refuses it (412) once the blob has been replaced. moto
  // ignores the condition, so the proxy gives S3's answer in its place after the blob is replaced.
  it("leaves a blob replaced between the listing and its copy as the writer left it, and moves the rest", async () => {
    const bucket = await newBucket();
    await put(bucket, "replaced-meanwhile", 2048);
    await put(bucket, "unchanged", 2048);
    const listedEtag = (await list(bucket)).get("replaced-meanwhile")!.etag;
    const recorder = await proxy(async (request) => {
      if (!(isCopyObject(request) && request.url.includes("replaced-meanwhile"))) return "forward";
      await put(bucket, "replaced-meanwhile", 4096);
      if (request.headers["x-amz-copy-source-if-match"] !== listedEtag) return "forward";
      return {
        status: 412,
        headers: { "content-type": "application/xml" },
        body: "<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>",
      };
    });
    const client = await connectedClient({ bucket, thresholds: { largeBlobBytes: 1024 } }, recorder);

    await client.moveLargeBlobsToGlacier();

    const after = await list(bucket);
    expect(Object.fromEntries([...after.values()].map((object) => [object.key, [object.storageClass, object.size]]))).toEqual({
      "replaced-meanwhile": ["STANDARD", 4096],
      unchanged: ["GLACIER", 2048],
    });
  });

  it("refuses by name a blob over the copy limit, and still moves the others", async () => {
    const bucket = await newBucket();
    await put(bucket, "over-limit", 4096);
    await put(bucket, "within-limit", 2048);
    const client = await connectedClient({ bucket, thresholds: { largeBlobBytes: 1024 }, maxCopyBytes: 3000 });

    const move = client.moveLargeBlobsToGlacier();
    await expect(move).rejects.toThrow(IntegrationError);
    await expect(move).rejects.toThrow(/1 blobs are over the 3000-byte copy limit and were not moved .*: over-limit \(4096 bytes\)/);
    const after = await list(bucket);
    expect(after.get("over-limit")!.storageClass).toBe("STANDARD");
    expect(after.get("within-limit")!.storageClass).toBe("GLACIER");
  });

  // moto dates every multipart upload alike (a constant Initiated), so one pass cannot hold a stale and
  // a fresh upload: each side of the age is shown with the dates the server reports.
  it("aborts multipart uploads started before the hung-upload age and keeps younger ones, judged by the server's dates", async () => {
    const bucket = await newBucket();
    const uploads = await Promise.all(
      ["upload/a", "upload/b"].map((Key) => observer.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key }))),
    );
    const listed = await observer.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    const initiated = new Map(listed.Uploads!.map((upload) => [upload.UploadId!, upload.Initiated!.getTime()]));
    expect([...initiated.keys()].sort()).toEqual(uploads.map((upload) => upload.UploadId!).sort());
    const hungUploadAgeSeconds = 60 * 60;
    const hungUploadAgeMs = hungUploadAgeSeconds * 1000;
    const newest = Math.max(...initiated.values());
    const oldest = Math.min(...initiated.values());

    // Just younger than the age, by the server's own dates: every upload goes on.
    const young = await connectedClient({ bucket, thresholds: { hungUploadAgeSeconds }, now: new Date(oldest + hungUploadAgeMs) });
    await young.stopHungUploads();
    expect((await observer.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads).toHaveLength(2);

    // Just past the age of the newest: both are hung and aborted.
    const old = await connectedClient({ bucket, thresholds: { hungUploadAgeSeconds }, now: new Date(newest + hungUploadAgeMs + 1) });
    await old.stopHungUploads();
    expect((await observer.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).toEqual([]);
    await old.stopHungUploads();
  });

  // moto lists every upload in one page whatever max-uploads says, so the proxy cuts moto's own first
  // answer to one upload and marks it truncated, as S3 does past 1,000 uploads.
  it("follows the upload listing page by page, from the markers each page names, and aborts the uploads of every page", async () => {
    const bucket = await newBucket();
    const keys = ["upload/a", "upload/b", "upload/c"];
    for (const Key of keys) await observer.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key }));
    const wholeListing = await (await fetch(`${server.endpoint}/${bucket}?uploads`)).text();
    const uploadsInListing = wholeListing.match(/<Upload>[\s\S]*?<\/Upload>/g) ?? [];
    expect(uploadsInListing).toHaveLength(3);
    const first = uploadsInListing[0]!;
    const firstKey = first.match(/<Key>(.*?)<\/Key>/)![1]!;
    const firstId = first.match(/<UploadId>(.*?)<\/UploadId>/)![1]!;
    // moto writes no Next markers at all: they go in beside IsTruncated, where S3 writes them.
    const firstPage = wholeListing
      .replace(/<Upload>[\s\S]*<\/Upload>/, first)
      .replace(/<Next(KeyMarker|UploadIdMarker)>.*?<\/Next\1>|<Next(KeyMarker|UploadIdMarker)\s*\/>/g, "")
      .replace(
        /<IsTruncated>false<\/IsTruncated>/,
        `<IsTruncated>true</IsTruncated><NextKeyMarker>${firstKey}</NextKeyMarker><NextUploadIdMarker>${firstId}</NextUploadIdMarker>`,
      );
    expect(firstPage).toContain("<IsTruncated>true</IsTruncated>");
    expect(firstPage).toContain(`<NextUploadIdMarker>${firstId}</NextUploadIdMarker>`);

    const isListUploads = (request: ProxiedRequest) => request.method === "GET" && /[?&]uploads(=|&|$)/.test(request.url);
    const recorder = await proxy((request) =>
      isListUploads(request) && !request.url.includes("key-marker=")
        ? { status: 200, headers: { "content-type": "application/xml" }, body: firstPage }
        : "forward",
    );
    const client = await connectedClient(
      { bucket, thresholds: { hungUploadAgeSeconds: 60 }, now: new Date(Date.now() + DAY_MS) },
      recorder,
    );

    await client.stopHungUploads();

    const listings = recorder.requests.filter(isListUploads).map((request) => new URL(request.url, server.endpoint).searchParams);
    expect(listings.map((query) => [query.get("key-marker"), query.get("upload-id-marker")])).toEqual([
      [null, null],
      [firstKey, firstId],
    ]);
    expect((await observer.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).toEqual([]);
  });

  it("a cancelled step stops: no request after the abort, and nothing deleted", async () => {
    const bucket = await newBucket();
    await putMany(bucket, ["a", "b", "c"]);
    const controller = new AbortController();
    const recorder = await proxy((request) => {
      if (!isDeleteObjects(request)) return "forward";
      controller.abort(new Error("operator interrupt"));
      return "drop";
    });
    const client = await connectedClient(
      { bucket, now: new Date(Date.now() + 40 * DAY_MS), thresholds: { blobRetentionDays: 30 } },
      recorder,
    );

    await expect(client.cleanUpOldBlobs({ signal: controller.signal })).rejects.toThrow("operator interrupt");
    const seen = recorder.requests.length;
    expect(recorder.requests.filter(isDeleteObjects).map((request) => request.forwarded)).toEqual([false]);
    expect([...(await list(bucket)).keys()].sort()).toEqual(["a", "b", "c"]);
    await expect(client.cleanUpOldBlobs({ signal: controller.signal })).rejects.toThrow("operator interrupt");
    expect(recorder.requests).toHaveLength(seen);
  });

  it("fails, naming the operation and bucket, when the server goes away mid-step", async () => {
    const bucket = await newBucket();
    await putMany(bucket, ["a", "b"]);
    let serverGone = false;
    const recorder = await proxy((request) => {
      if (isDeleteObjects(request)) serverGone = true;
      return serverGone ? "drop" : "forward";
    });
    const client = await connectedClient({ bucket, now: new Date(Date.now() + 40 * DAY_MS) }, recorder);

    const cleanup = client.cleanUpOldBlobs();
    await expect(cleanup).rejects.toThrow(IntegrationError);
    await expect(cleanup).rejects.toThrow(`s3.cleanUpOldBlobs on bucket ${bucket}: `);
    // The SDK retried the call before giving up.
    expect(recorder.requests.filter(isDeleteObjects).length).toBeGreaterThan(1);
    expect([...(await list(bucket)).keys()].sort()).toEqual(["a", "b"]);
  });

  it("gives up a request the server stops answering, after the SDK's own retries, and fails the step naming it", async () => {
    const bucket = await newBucket();
    await putMany(bucket, ["a", "b"]);
    // The server takes the listing and never answers it, as one that hangs does.
    const recorder = await proxy((request) => (isListObjects(request) ? new Promise<never>(() => undefined) : "forward"));
    // Short, but long enough that the requests moto does answer (the connect check) never hit it on a busy machine.
    const client = await connectedClient({ bucket, now: new Date(Date.now() + 40 * DAY_MS), requestTimeoutMs: 1_000 }, recorder);

    const cleanup = client.cleanUpOldBlobs();
    await expect(cleanup).rejects.toThrow(IntegrationError);
    await expect(cleanup).rejects.toThrow(new RegExp(`^s3.cleanUpOldBlobs on bucket ${bucket}: .*time`, "i"));
    expect(recorder.requests.filter(isListObjects).length).toBeGreaterThan(1);
    expect(recorder.requests.filter(isDeleteObjects)).toEqual([]);
    expect([...(await list(bucket)).keys()].sort()).toEqual(["a", "b"]);
  });

  it("refuses to work before initClient, and initClient fails clearly for a bucket that does not exist", async () => {
    const client = new AwsS3Client({ bucket: "no-such-bucket" });
    clients.push(client);
    await expect(client.cleanUpOldBlobs()).rejects.toThrow(NotConnectedError);
    await expect(client.initClient()).rejects.toThrow(/s3\.initClient on bucket no-such-bucket: NotFound \(HTTP 404\)/);
  });
});
