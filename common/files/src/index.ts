/** Safe file writes for services and CLIs alike: atomic replacement, async for large streamed content or sync. */
export {
  FileContent,
  SyncFileContent,
  writeFileAtomic,
  writeFileAtomicSync,
  writeJsonFileAtomic,
  writeJsonFileAtomicSync,
} from "./atomic";
