/** The views, who sees which (the API stays the security), and the hash routes (#/reports, #/lines, ...). */

import { useEffect, useState } from "preact/hooks";
import type { Audience } from "./config";
import type { MessageKey } from "./i18n";

export type ViewId =
  | "reports"
  | "register"
  | "transcripts"
  | "supervision"
  | "stats"
  | "lines"
  | "disclosures"
  | "decisions"
  | "audit"
  | "releases";

export interface ViewSpec {
  id: ViewId;
  /** The navigation link's name and the view's <h1>. */
  title: MessageKey;
  /** Any of these groups sees the view. */
  groups: readonly string[];
  audience: Audience;
}

/** In navigation order; a person lands on the first of theirs. Groups as in helpline.auth.ROUTE_PERMISSIONS and the role list. */
export const VIEWS: readonly ViewSpec[] = [
  { id: "reports", title: "nav.reports", groups: ["volunteer", "mentor"], audience: "organisation" },
  { id: "register", title: "nav.register", groups: ["mentor", "staff"], audience: "organisation" },
  { id: "transcripts", title: "nav.transcripts", groups: ["mentor"], audience: "organisation" },
  { id: "stats", title: "nav.stats", groups: ["staff"], audience: "organisation" },
  { id: "lines", title: "nav.lines", groups: ["staff", "admin"], audience: "organisation" },
  { id: "disclosures", title: "nav.disclosures", groups: ["professional"], audience: "organisation" },
  { id: "decisions", title: "nav.decisions", groups: ["compliance"], audience: "organisation" },
  { id: "audit", title: "nav.audit", groups: ["compliance"], audience: "organisation" },
  {
    id: "supervision",
    title: "nav.supervision",
    groups: ["volunteer", "mentor", "professional", "staff"],
    audience: "organisation",
  },
  { id: "releases", title: "nav.releases", groups: ["custodian"], audience: "custodian" },
];

/** Every view of every group the person is in, for this console's audience. */
export function viewsFor(groups: ReadonlySet<string>, audience: Audience): ViewSpec[] {
  return VIEWS.filter((view) => view.audience === audience && view.groups.some((group) => groups.has(group)));
}

export interface Route {
  /** The first path segment: "reports" for #/reports, "" for #/ or no hash. */
  view: string;
  /** The second segment, e.g. the id of #/decisions/<id>; "" when absent. */
  param: string;
}

export function parseHash(hash: string): Route {
  const path = hash.replace(/^#\/?/, "").split("?")[0] ?? "";
  const [view = "", param = ""] = path.split("/").map((part) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return "";
    }
  });
  return { view, param };
}

export function href(view: ViewId, param?: string): string {
  return param !== undefined && param !== "" ? `#/${view}/${encodeURIComponent(param)}` : `#/${view}`;
}

export function navigate(view: ViewId, param?: string): void {
  window.location.hash = href(view, param);
}

/** The current hash route, re-rendering on every hashchange. */
export function useRoute(): Route {
  const [route, setRoute] = useState<Route>(() => parseHash(window.location.hash));
  useEffect(() => {
    const update = (): void => setRoute(parseHash(window.location.hash));
    window.addEventListener("hashchange", update);
    return () => window.removeEventListener("hashchange", update);
  }, []);
  return route;
}
