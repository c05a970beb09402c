/** A small hand-typed client of the custodian's confirmation API (infrastructure/custodian/template.yaml,
 * routes in layers/helpline/helpline/custodian_api.py, models in helpline/models/releases.py). */

import { idToken, sessionExpired } from "../auth";
import { ApiProblem, problemFrom } from "./errors";

export type Basis = "legal_order_126nc" | "consent";
export type ReleaseStatus = "pending" | "confirmed" | "refused" | "expired" | "released" | "erased";
export type ReleaseDecision = "confirm" | "refuse";

/** The art. 126nc Sv demand's particulars (helpline.models.disclosures.LegalOrder). */
export interface LegalOrder {
  reference: string;
  officer_of_justice: string;
  prosecutor_office: string;
  issued_on: string;
  document_sha256: string;
}

/** Who recorded the person's consent, and when; the statement stays with the organisation. */
export interface ConsentSummary {
  recorded_by: string;
  recorded_at: string;
}

export interface ReleaseGrounds {
  legal_order?: LegalOrder | null;
  consent?: ConsentSummary | null;
}

/** GET /releases items, GET /releases/{id}, and the answer of confirm and refuse. */
export interface ReleaseView {
  disclosure_id: string;
  contact_id: string;
  basis: Basis;
  grounds: ReleaseGrounds;
  approved_by: string[];
  approved_at: string;
  received_at: string;
  deadline: string;
  status: ReleaseStatus;
  decided_by?: string | null;
  decided_at?: string | null;
  reason?: string | null;
  released_at?: string | null;
}

export interface ReleaseList {
  items: ReleaseView[];
}

/** Reason of a decision: 1 to 500 characters (ReleaseDecisionIn). */
export const RELEASE_REASON_MAX = 500;

export const DISCLOSURE_ID_PATTERN = /^[0-9a-f]{32}$/;

export class CustodianApi {
  constructor(private readonly baseUrl: string) {}

  private async request<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    const headers = new Headers({ Accept: "application/json" });
    const token = await idToken();
    if (token !== null) headers.set("Authorization", `Bearer ${token}`);
    if (body !== undefined) headers.set("Content-Type", "application/json");
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        cache: "no-store",
        credentials: "omit",
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch {
      throw new ApiProblem(0, null);
    }
    if (response.status === 401) sessionExpired();
    let parsed: unknown = null;
    try {
      parsed = await response.json();
    } catch {
      parsed = null;
    }
    if (!response.ok) throw problemFrom(response.status, parsed);
    return parsed as T;
  }

  listReleases(): Promise<ReleaseList> {
    return this.request<ReleaseList>("GET", "/releases");
  }

  getRelease(disclosureId: string): Promise<ReleaseView> {
    return this.request<ReleaseView>("GET", `/releases/${encodeURIComponent(disclosureId)}`);
  }

  decide(disclosureId: string, decision: ReleaseDecision, reason: string): Promise<ReleaseView> {
    return this.request<ReleaseView>("POST", `/releases/${encodeURIComponent(disclosureId)}/${decision}`, {
      reason,
    });
  }
}

let custodian: CustodianApi | null = null;

export function createCustodianApi(baseUrl: string): CustodianApi {
  custodian = new CustodianApi(baseUrl);
  return custodian;
}

export function custodianApi(): CustodianApi {
  if (custodian === null) throw new Error("custodian API used before createCustodianApi");
  return custodian;
}
