/** The legal basis of a disclosure laid out: the art. 126nc Sv demand's particulars, who else is in
 * danger, or the person's consent; its approvals and timeline. */

import type { Schemas } from "../api/client";
import { dateTime, label } from "../format";
import { t } from "../i18n";
import { Details } from "./Bits";

type DisclosureView = Schemas["DisclosureView"];

export interface LegalOrderFields {
  reference: string;
  officer_of_justice: string;
  prosecutor_office: string;
  issued_on: string;
  document_sha256: string;
}

export function LegalOrderDetails({ order }: { order: LegalOrderFields }) {
  return (
    <Details
      items={[
        [t("grounds.reference"), order.reference],
        [t("grounds.officer"), order.officer_of_justice],
        [t("grounds.office"), order.prosecutor_office],
        [t("grounds.issuedOn"), order.issued_on],
        [t("grounds.sha256"), <code class="id">{order.document_sha256}</code>],
      ]}
    />
  );
}

export function Grounds({ request }: { request: DisclosureView }) {
  return (
    <>
      <h3>{t("grounds.basis")}</h3>
      <p>
        <strong>{label("basis", request.basis)}</strong>
      </p>
      {request.legal_order !== null && request.legal_order !== undefined ? (
        <>
          <h3>{t("grounds.legalOrder")}</h3>
          <LegalOrderDetails order={request.legal_order} />
        </>
      ) : null}
      {request.third_party_danger !== null && request.third_party_danger !== undefined ? (
        <>
          <h3>{t("grounds.danger")}</h3>
          <Details
            items={[
              [t("grounds.category"), label("category", request.third_party_danger.category)],
              [t("grounds.description"), <span class="pre">{request.third_party_danger.description}</span>],
            ]}
          />
        </>
      ) : null}
      {request.consent !== null && request.consent !== undefined ? (
        <>
          <h3>{t("grounds.consent")}</h3>
          <Details
            items={[
              [t("grounds.recordedBy"), request.consent.recorded_by],
              [t("grounds.recordedAt"), dateTime(request.consent.recorded_at)],
              [t("grounds.method"), label("method", request.consent.method)],
              [t("grounds.statement"), <span class="pre">{request.consent.statement}</span>],
            ]}
          />
        </>
      ) : null}
    </>
  );
}

export function Approvals({ request }: { request: DisclosureView }) {
  return (
    <>
      <h3>{t("grounds.approvals", { n: request.approvals.length, of: request.approvals_needed })}</h3>
      {request.approvals.length === 0 ? (
        <p class="empty">{t("grounds.approvals.none")}</p>
      ) : (
        <ul>
          {request.approvals.map((approval) => (
            <li key={`${approval.by}-${approval.at}`}>
              {t("grounds.approvedBy", { by: approval.by, at: dateTime(approval.at) })}: {approval.reason}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

export function Timeline({ request }: { request: DisclosureView }) {
  return (
    <table>
      <caption>{t("timeline.caption")}</caption>
      <thead>
        <tr>
          <th scope="col">{t("col.at")}</th>
          <th scope="col">{t("timeline.event")}</th>
          <th scope="col">{t("timeline.actor")}</th>
          <th scope="col">{t("col.reason")}</th>
        </tr>
      </thead>
      <tbody>
        {request.timeline.map((entry, index) => (
          <tr key={index}>
            <td>{dateTime(entry.at)}</td>
            <td>{label("event", entry.event)}</td>
            <td>{entry.actor}</td>
            <td>{entry.reason ?? "—"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A status with its plain explanation. */
export function StatusLine({ request }: { request: DisclosureView }) {
  return (
    <p class={`status-line status-${request.status}`}>
      {t("col.status")}: <strong>{label("status", request.status)}</strong>
      {request.callback_pending === true ? ` — ${t("status.callbackPending")}` : ""}
    </p>
  );
}
