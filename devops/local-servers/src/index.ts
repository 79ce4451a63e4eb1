/** Real servers on 127.0.0.1 for tests that talk to what a user would meet. */

export { type Answer, type Decision, type Intercept, type ProxiedRequest, type RecordingProxy, startRecordingProxy } from "./proxy";
export { findMotoServer, LocalServerError, type S3Server, type StartS3ServerOptions, startS3Server } from "./s3";
