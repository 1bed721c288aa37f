/**
 * Materialised paths of the unit tree: "/rootId/childId/selfId/", so a subtree is one prefix range.
 * Shared by the single-unit upsert and the bulk import so both build exactly the same paths.
 */
export function unitPath(parentPath: string | null, id: string): string {
  return `${parentPath ?? '/'}${id}/`;
}

/** True when the unit at `path` is the unit at `ancestorPath` or lies under it. */
export function isWithin(path: string, ancestorPath: string): boolean {
  return path.startsWith(ancestorPath);
}
