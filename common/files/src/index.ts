/**
 * Safe file writes for services and CLIs alike: atomic replacement, async for large streamed content or sync, and clean-up
 * after a crash; and where a user's relative path points.
 */
export {
  FileContent,
  removeStaleTempFiles,
  SyncFileContent,
  WriteFileAtomicOptions,
  writeFileAtomic,
  writeFileAtomicSync,
  writeJsonFileAtomic,
  writeJsonFileAtomicSync,
} from "./atomic";
export { callerDirectory } from "./caller";
