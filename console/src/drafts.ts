/** What a person typed into a form, kept in memory across a lost session (never in storage).
 *
 * When the API answers 401 the views unmount and the sign-in form shows; a form that keeps its fields
 * here finds them again after the same person signs back in. Another person signing in, or signing
 * out, clears them.
 */

import { useState } from "preact/hooks";

const drafts = new Map<string, unknown>();
let owner: string | null = null;

/** Called after each sign-in: the drafts stay only for the person who typed them. */
export function claimDrafts(username: string): void {
  if (owner !== username) drafts.clear();
  owner = username;
}

export function clearDrafts(): void {
  drafts.clear();
  owner = null;
}

export function dropDraft(key: string): void {
  drafts.delete(key);
}

/** useState whose value survives the component unmounting (kept under `key` until dropped). */
export function useDraft<T>(key: string, initial: T): [T, (next: T) => void] {
  const [value, setValue] = useState<T>(() => (drafts.has(key) ? (drafts.get(key) as T) : initial));
  const update = (next: T): void => {
    drafts.set(key, next);
    setValue(next);
  };
  return [value, update];
}
