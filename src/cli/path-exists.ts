/**
 * Whether anything (file, folder, dangling symlink) is at a path: commands that write new
 * files refuse to replace one. lstat, so a symlink counts even when its target is missing.
 */
import { lstat } from 'node:fs/promises'

export async function pathExists(path: string): Promise<boolean> {
  try {
    await lstat(path)
    return true
  } catch {
    return false
  }
}
