// Received files on the web live in the origin-private file system: partials under "partial" (written
// in place by a worker through the transfer engine's OpfsFileSink, transfer-io.ts), finished files
// under "downloads". The user gets them out with "Save" (a download of the disk-backed File; nothing
// is read into memory).

export const DOWNLOADS_DIR = 'downloads';
export const PARTIAL_DIR = 'partial';

export async function opfsDir(path: string): Promise<FileSystemDirectoryHandle> {
  let dir = await navigator.storage.getDirectory();
  for (const part of path.split('/').filter(Boolean)) dir = await dir.getDirectoryHandle(part, { create: true });
  return dir;
}

export async function namesIn(dir: FileSystemDirectoryHandle): Promise<Set<string>> {
  const names = new Set<string>();
  for await (const key of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) names.add(key);
  return names;
}

/** Moves a closed file between OPFS folders: move() where the engine has it, else copy and delete. */
export async function moveFile(
  fromDir: FileSystemDirectoryHandle,
  fromName: string,
  toDir: FileSystemDirectoryHandle,
  toName: string,
): Promise<void> {
  const file = await fromDir.getFileHandle(fromName);
  const movable = file as unknown as { move?: (dir: FileSystemDirectoryHandle, name: string) => Promise<void> };
  if (typeof movable.move === 'function') {
    await movable.move(toDir, toName);
    return;
  }
  const target = await toDir.getFileHandle(toName, { create: true });
  const writable = await target.createWritable();
  await (await file.getFile()).stream().pipeTo(writable);
  await fromDir.removeEntry(fromName);
}

export interface StoredDownload {
  /** Path inside the downloads folder, `/`-separated (offers may carry folders). */
  name: string;
  size: number;
  lastModified: number;
}

type Entries = { entries(): AsyncIterable<[string, FileSystemHandle]> };

export async function listDownloads(): Promise<StoredDownload[]> {
  const out: StoredDownload[] = [];
  const walk = async (dir: FileSystemDirectoryHandle, prefix: string, depth: number): Promise<void> => {
    for await (const [name, handle] of (dir as unknown as Entries).entries()) {
      if (handle.kind === 'directory') {
        if (depth < 32) await walk(handle as FileSystemDirectoryHandle, `${prefix}${name}/`, depth + 1);
        continue;
      }
      const file = await (handle as FileSystemFileHandle).getFile();
      out.push({ name: prefix + name, size: file.size, lastModified: file.lastModified });
    }
  };
  await walk(await opfsDir(DOWNLOADS_DIR), '', 0);
  return out.sort((a, b) => b.lastModified - a.lastModified);
}

/** Resolves a stored download's `/`-separated path; refuses anything that is not plain names. */
async function locate(path: string): Promise<{ dir: FileSystemDirectoryHandle; name: string }> {
  const parts = path.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) throw new Error('invalid file path');
  let dir = await opfsDir(DOWNLOADS_DIR);
  for (const part of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(part);
  return { dir, name: parts[parts.length - 1]! };
}

export async function getDownload(path: string): Promise<File> {
  const { dir, name } = await locate(path);
  return (await dir.getFileHandle(name)).getFile();
}

export async function deleteDownload(path: string): Promise<void> {
  const { dir, name } = await locate(path);
  await dir.removeEntry(name);
}

/** Hands a stored file to the browser's download manager. The File is disk-backed: no copy in memory. */
export async function exportDownload(path: string): Promise<void> {
  const file = await getDownload(path);
  const url = URL.createObjectURL(file);
  try {
    const a = document.createElement('a');
    a.href = url;
    a.download = file.name;
    a.rel = 'noopener';
    document.body.append(a);
    a.click();
    a.remove();
  } finally {
    // The download manager has the URL once click() returns; revoke later so it can start.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
}
