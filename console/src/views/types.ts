import type { Session } from "../auth";
import type { ConsoleConfig } from "../config";

/** What every view gets: who is signed in, the route's parameter (#/view/<param>), the config. */
export interface ViewProps {
  session: Session;
  param: string;
  config: ConsoleConfig;
}

export const CONTACT_ID_PATTERN = "[0-9a-f]{32}";
export const CONTACT_ID_RE = /^[0-9a-f]{32}$/;

/** A contact or request id as typed: trimmed, lower-case, without spaces or dashes. */
export function normaliseId(raw: string): string {
  return raw.trim().toLowerCase().replace(/[\s-]+/g, "");
}
