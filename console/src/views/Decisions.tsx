/** Compliance: the queue of disclosure requests waiting for a decision, each with its legal basis laid
 * out, approved or rejected with a reason; never one's own request (four eyes, P7). */

import { useState } from "preact/hooks";
import { api, type Schemas } from "../api/client";
import { ApiProblem, asProblem, unwrap } from "../api/errors";
import { useLoaded } from "../load";
import { Details, Empty, Loading } from "../components/Bits";
import { ErrorMessage } from "../components/ErrorMessage";
import { TextArea } from "../components/Fields";
import { Approvals, Grounds, StatusLine, Timeline } from "../components/Grounds";
import { ViewHeading } from "../components/ViewHeading";
import { dateTime, label, shortId } from "../format";
import { t } from "../i18n";
import { href } from "../routes";
import { announce } from "../status";
import type { ViewProps } from "./types";

type DisclosureView = Schemas["DisclosureView"];
const REASON_MIN = 3;
const REASON_MAX = 1000;

function awaitsDecision(request: DisclosureView): boolean {
  return request.status === "awaiting_decision" || request.callback_pending === true;
}

function RequestTable({ items, caption }: { items: DisclosureView[]; caption: string }) {
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{t("col.requestedAt")}</th>
          <th scope="col">{t("col.requestedBy")}</th>
          <th scope="col">{t("grounds.basis")}</th>
          <th scope="col">{t("col.status")}</th>
          <th scope="col">{t("col.approvals")}</th>
          <th scope="col">{t("col.actions")}</th>
        </tr>
      </thead>
      <tbody>
        {items.map((request) => (
          <tr key={request.id}>
            <td>{dateTime(request.requested_at)}</td>
            <td>{request.requested_by}</td>
            <td>{label("basis", request.basis)}</td>
            <td>{label("status", request.status)}</td>
            <td class="number">
              {request.approvals.length}/{request.approvals_needed}
            </td>
            <td>
              <a href={href("decisions", request.id)}>
                {t("decisions.open")}
                <span class="visually-hidden"> {request.id}</span>
              </a>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Queue() {
  const [items, , problem] = useLoaded<DisclosureView[]>(
    () => unwrap(api().GET("/disclosures")).then((result) => result.items),
    [],
  );

  const waiting = items?.filter(awaitsDecision) ?? [];
  const others = items?.filter((request) => !awaitsDecision(request)) ?? [];
  return (
    <>
      <ViewHeading title={t("nav.decisions")} />
      <p class="hint">{t("decisions.explain")}</p>
      <ErrorMessage problem={problem} />
      <section aria-labelledby="decisions-queue">
        <h2 id="decisions-queue">{t("decisions.queue")}</h2>
        {items === null ? (
          problem === null ? <Loading /> : null
        ) : waiting.length === 0 ? (
          <Empty>{t("decisions.queue.empty")}</Empty>
        ) : (
          <RequestTable items={waiting} caption={t("decisions.queue.caption", { n: waiting.length })} />
        )}
      </section>
      {others.length > 0 ? (
        <section aria-labelledby="decisions-others">
          <h2 id="decisions-others">{t("decisions.others")}</h2>
          <RequestTable items={others} caption={t("decisions.others.caption", { n: others.length })} />
        </section>
      ) : null}
    </>
  );
}

function DecisionForm({ request, me, onDecided }: { request: DisclosureView; me: string; onDecided: (next: DisclosureView) => void }) {
  const [reason, setReason] = useState("");
  const [invalid, setInvalid] = useState(false);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);

  if (request.requested_by === me) {
    return (
      <div class="message info">
        <p>{t("decisions.own")}</p>
      </div>
    );
  }
  if (!awaitsDecision(request)) {
    return (
      <div class="message info">
        <p>{t("decisions.notWaiting")}</p>
      </div>
    );
  }
  const approvedByMe = request.approvals.some((approval) => approval.by === me);

  const decide = async (decision: "approve" | "reject"): Promise<void> => {
    const text = reason.trim();
    if (text.length < REASON_MIN) {
      setInvalid(true);
      return;
    }
    setInvalid(false);
    setBusy(true);
    setProblem(null);
    try {
      const path = { params: { path: { id: request.id } }, body: { reason: text } };
      const next =
        decision === "approve"
          ? await unwrap(api().POST("/disclosures/{id}/approve", path))
          : await unwrap(api().POST("/disclosures/{id}/reject", path));
      setReason("");
      announce(decision === "approve" ? t("decisions.approved") : t("decisions.rejected"));
      onDecided(next);
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="decision-form">
      <h2 id="decision-form">{t("decisions.decide")}</h2>
      {request.callback_pending === true ? (
        <div class="message warning">
          <p>{t("decisions.callbackPending")}</p>
        </div>
      ) : null}
      {approvedByMe ? <p class="hint">{t("decisions.alreadyApproved")}</p> : null}
      <form class="form" onSubmit={(event) => event.preventDefault()}>
        <TextArea
          id="decision-reason"
          label={t("decisions.reason")}
          hint={t("decisions.reason.hint")}
          value={reason}
          onValue={setReason}
          maxLength={REASON_MAX}
          rows={3}
          required
        />
        {invalid ? (
          <p class="message error" role="alert">
            {t("decisions.reason.missing", { n: REASON_MIN })}
          </p>
        ) : null}
        <div class="actions">
          <button type="button" disabled={busy} onClick={() => void decide("approve")}>
            {t("decisions.approve")}
          </button>{" "}
          <button type="button" class="danger" disabled={busy} onClick={() => void decide("reject")}>
            {t("decisions.reject")}
          </button>
        </div>
      </form>
      <ErrorMessage problem={problem} />
    </section>
  );
}

function Decision({ id, me }: { id: string; me: string }) {
  const [request, setRequest, problem] = useLoaded<DisclosureView>(
    () => unwrap(api().GET("/disclosures/{id}", { params: { path: { id } } })),
    [id],
  );

  return (
    <>
      <ViewHeading title={t("decisions.detail.title", { id: shortId(id) })} focusKey={id} />
      <p>
        <a href={href("decisions")}>{t("decisions.back")}</a>
      </p>
      <ErrorMessage problem={problem} />
      {request === null ? (
        problem === null ? <Loading /> : null
      ) : (
        <>
          <StatusLine request={request} />
          <section aria-labelledby="decision-grounds">
            <h2 id="decision-grounds">{t("decisions.grounds")}</h2>
            <Details
              items={[
                [t("col.requestId"), <code class="id">{request.id}</code>],
                [t("col.contactId"), <code class="id">{request.contact_id}</code>],
                [t("col.requestedBy"), request.requested_by],
                [t("col.requestedAt"), dateTime(request.requested_at)],
              ]}
            />
            <Grounds request={request} />
            <Approvals request={request} />
          </section>
          <DecisionForm request={request} me={me} onDecided={setRequest} />
          <section aria-labelledby="decision-timeline">
            <h2 id="decision-timeline">{t("timeline.title")}</h2>
            <Timeline request={request} />
          </section>
        </>
      )}
    </>
  );
}

export function Decisions({ session, param }: ViewProps) {
  return param !== "" ? <Decision id={param} me={session.username} /> : <Queue />;
}
