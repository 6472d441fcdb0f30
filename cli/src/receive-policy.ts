// What `parley receive` refuses before a byte is written. The core path rules (core/src/transfer/names.ts)
// keep every path inside the receive folder; these add what is dangerous *inside* it for a headless
// receiver: dot-files and dot-folders (`.ssh/authorized_keys`, `.config/autostart/x.desktop`,
// `.git/hooks/pre-commit` become live if the folder is a home or a repository), names that differ only
// in case (on a case-insensitive disk one silently lands on the other), and receive folders that are
// themselves a home directory or inside a git repository.
import { lstat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, relative, resolve, sep } from 'node:path';
import { displayName } from '../../core/src/transfer/names.js';

export interface ReceivePathOptions {
  /** Accept leading-dot path segments (`--allow-dot-files`). */
  allowDotFiles?: boolean;
}

/** Why an incoming offer with these relative paths is refused, or null when it is acceptable. */
export function receivePathsProblem(paths: readonly string[], options: ReceivePathOptions = {}): string | null {
  const files = new Map<string, string>();
  const folders = new Map<string, string>();
  for (const path of paths) {
    const segments = path.split('/');
    if (!options.allowDotFiles) {
      const dot = segments.find((s) => s.startsWith('.'));
      if (dot !== undefined)
        return `refused file name ${displayName(path)}: "${dot.slice(0, 40)}" starts with a dot (hidden files and folders such as .ssh or .config are not received; the receiver can allow them with --allow-dot-files)`;
    }
    const key = path.normalize('NFC').toLowerCase();
    const clash = files.get(key) ?? folders.get(key);
    if (clash !== undefined)
      return `refused file name ${displayName(path)}: differs from ${displayName(clash)} only in letter case`;
    files.set(key, path);
    const keySegments = key.split('/');
    for (let i = 1; i < keySegments.length; i++) {
      const folderKey = keySegments.slice(0, i).join('/');
      const folderName = segments.slice(0, i).join('/');
      const seen = folders.get(folderKey);
      if (seen !== undefined && seen !== folderName)
        return `refused folder name ${displayName(folderName)}: differs from ${displayName(seen)} only in letter case`;
      if (files.has(folderKey))
        return `refused file name ${displayName(files.get(folderKey))}: differs from folder ${displayName(folderName)} only in letter case`;
      folders.set(folderKey, folderName);
    }
  }
  return null;
}

/**
 * Why `dir` is a dangerous receive folder, or null: the home directory (or a folder above it), where
 * a sender could place dot-files that run, or a folder inside a git work tree (hooks, config).
 */
export async function receiveDirProblem(dir: string, home: string = homedir()): Promise<string | null> {
  const target = resolve(dir);
  const h = resolve(home);
  if (target === h) return `${target} is your home directory`;
  const up = relative(target, h);
  if (up !== '' && !up.startsWith('..') && !up.startsWith(sep)) return `${target} contains your home directory`;
  for (let d = target; ; d = dirname(d)) {
    const git = await lstat(resolve(d, '.git')).catch(() => null);
    if (git) return `${target} is inside the git repository at ${d}`;
    if (dirname(d) === d) return null;
  }
}
