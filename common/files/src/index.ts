/**
 * Safe file writes for services and CLIs alike: atomic replacement, async for large streamed content or sync, and clean-up
 * after a crash; where a user's relative path points; and which pnpm workspace a folder is in.
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
export { findWorkspaceRoot } from "./workspace-root";
