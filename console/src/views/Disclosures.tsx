/** Professionals: request a disclosure (P6, P7) on a legal order or with consent, follow their own
 * requests, and reveal a delivered result once. The result is fetched with cache: 'no-store', kept in
 * this view's memory only and dropped when the view is left. */

import { useEffect, useRef, useState } from "preact/hooks";
import { api, type Schemas } from "../api/client";
import { ApiProblem, asProblem, unwrap } from "../api/errors";
import { useLoaded } from "../load";
import { Details, Empty, Loading } from "../components/Bits";
import { ErrorMessage } from "../components/ErrorMessage";
import { Group, RadioGroup, SelectField, TextArea, TextField } from "../components/Fields";
import { Approvals, Grounds, StatusLine, Timeline } from "../components/Grounds";
import { ViewHeading } from "../components/ViewHeading";
import { dropDraft, useDraft } from "../drafts";
import { dateTime, label, shortId, utcDay } from "../format";
import { t } from "../i18n";
import { href, navigate } from "../routes";
import { announce } from "../status";
import { CONTACT_ID_PATTERN, CONTACT_ID_RE, normaliseId, type ViewProps } from "./types";

type DisclosureView = Schemas["DisclosureView"];
type DisclosureRequestIn = Schemas["DisclosureRequestIn"];
type DisclosureResult = Schemas["DisclosureResult"];
type ConsentMethod = Schemas["Consent"]["method"];
type Basis = "legal_order_126nc" | "consent";

/** helpline.models.disclosures.THIRD_PARTY_CATEGORIES */
const CATEGORIES = ["child", "partner", "family_member", "other_named_person", "people_at_a_place", "public"] as const;
const METHODS: readonly ConsentMethod[] = ["phone", "chat", "email", "in_person", "letter"];
const BASES: readonly Basis[] = ["legal_order_126nc", "consent"];
const TEXT_MAX = 2000;
const SHA256_RE = /^[0-9a-f]{64}$/;
/** Statuses in which the result waits to be fetched (helpline.logic.disclosure_requests). */
const READY = new Set<string>(["decrypted", "delivered"]);

interface RequestForm {
  contactId: string;
  basis: Basis | "";
  reference: string;
  officer: string;
  office: string;
  issuedOn: string;
  sha256: string;
  category: string;
  description: string;
  recordedBy: string;
  recordedAt: string;
  method: ConsentMethod | "";
  statement: string;
}

function emptyForm(username: string): RequestForm {
  return {
    contactId: "",
    basis: "",
    reference: "",
    officer: "",
    office: "",
    issuedOn: "",
    sha256: "",
    category: "",
    description: "",
    recordedBy: username,
    recordedAt: "",
    method: "",
    statement: "",
  };
}

async function sha256Hex(file: File): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The body of POST /disclosures, or the message key of what is missing. */
function bodyOf(form: RequestForm): DisclosureRequestIn | string {
  const contactId = normaliseId(form.contactId);
  if (!CONTACT_ID_RE.test(contactId)) return t("field.contactId.invalid");
  if (form.basis === "") return t("disclosures.basis.missing");
  if (form.basis === "legal_order_126nc") {
    const sha = form.sha256.trim().toLowerCase();
    if (!SHA256_RE.test(sha)) return t("disclosures.sha256.invalid");
    if (form.category === "") return t("disclosures.category.missing");
    return {
      contact_id: contactId,
      basis: form.basis,
      danger_to_self_only: false,
      legal_order: {
        reference: form.reference.trim(),
        officer_of_justice: form.officer.trim(),
        prosecutor_office: form.office.trim(),
        issued_on: form.issuedOn,
        document_sha256: sha,
      },
      third_party_danger: { category: form.category, description: form.description.trim() },
    };
  }
  if (form.method === "") return t("disclosures.method.missing");
  const recordedAt = new Date(form.recordedAt);
  if (form.recordedAt === "" || Number.isNaN(recordedAt.getTime())) return t("disclosures.recordedAt.invalid");
  return {
    contact_id: contactId,
    basis: form.basis,
    danger_to_self_only: false,
    consent: {
      recorded_by: form.recordedBy.trim(),
      recorded_at: recordedAt.toISOString(),
      method: form.method,
      statement: form.statement.trim(),
    },
  };
}

function Rules() {
  return (
    <div class="message info rules">
      <h3>{t("disclosures.rules.title")}</h3>
      <ul>
        <li>{t("disclosures.rules.basis")}</li>
        <li>{t("disclosures.rules.self")}</li>
        <li>{t("disclosures.rules.danger")}</li>
        <li>{t("disclosures.rules.particulars")}</li>
        <li>{t("disclosures.rules.scrubbed")}</li>
        <li>{t("disclosures.rules.dates")}</li>
        <li>{t("disclosures.rules.flow")}</li>
      </ul>
    </div>
  );
}

function RequestFormSection({ username }: { username: string }) {
  const [form, setForm] = useDraft<RequestForm>("disclosure.form", emptyForm(username));
  const [invalid, setInvalid] = useState<string | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [hashing, setHashing] = useState(false);
  const [busy, setBusy] = useState(false);
  const set = <K extends keyof RequestForm>(key: K) => (value: RequestForm[K]): void => setForm({ ...form, [key]: value });

  const hashFile = async (input: HTMLInputElement): Promise<void> => {
    const file = input.files?.[0];
    if (file === undefined) return;
    setHashing(true);
    try {
      const hex = await sha256Hex(file);
      setForm({ ...form, sha256: hex });
      announce(t("disclosures.sha256.computed"));
    } finally {
      setHashing(false);
      input.value = "";
    }
  };

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    const body = bodyOf(form);
    if (typeof body === "string") {
      setInvalid(body);
      return;
    }
    setInvalid(null);
    setBusy(true);
    setProblem(null);
    try {
      const created = await unwrap(api().POST("/disclosures", { body }));
      dropDraft("disclosure.form");
      announce(t("disclosures.created"));
      navigate("disclosures", created.id);
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="disclosure-new">
      <h2 id="disclosure-new">{t("disclosures.new")}</h2>
      <Rules />
      <form class="form" onSubmit={(event) => void submit(event)}>
        <TextField
          id="disclosure-contact"
          label={t("field.contactId")}
          value={form.contactId}
          onValue={set("contactId")}
          pattern={CONTACT_ID_PATTERN}
          maxLength={40}
          spellcheck={false}
          required
        />
        <RadioGroup
          name="disclosure-basis"
          legend={t("disclosures.basis")}
          value={form.basis}
          onValue={(value) => set("basis")(BASES.find((item) => item === value) ?? "")}
          options={BASES.map((item) => ({ value: item, label: label("basis", item) }))}
          required
        />
        {form.basis === "legal_order_126nc" ? (
          <>
            <Group legend={t("disclosures.legalOrder")}>
              <p class="hint">{t("disclosures.legalOrder.hint")}</p>
              <TextField id="order-reference" label={t("grounds.reference")} value={form.reference} onValue={set("reference")} maxLength={200} required />
              <TextField id="order-officer" label={t("grounds.officer")} value={form.officer} onValue={set("officer")} maxLength={200} required />
              <TextField id="order-office" label={t("grounds.office")} value={form.office} onValue={set("office")} maxLength={200} required />
              <TextField
                id="order-issued"
                label={t("grounds.issuedOn")}
                hint={t("disclosures.issuedOn.hint")}
                type="date"
                max={utcDay(1)}
                value={form.issuedOn}
                onValue={set("issuedOn")}
                required
              />
              <TextField
                id="order-sha256"
                label={t("grounds.sha256")}
                hint={t("disclosures.sha256.hint")}
                value={form.sha256}
                onValue={set("sha256")}
                pattern="[0-9a-fA-F]{64}"
                maxLength={64}
                spellcheck={false}
                required
              />
              <div class="field">
                <label for="order-file">{t("disclosures.file")}</label>
                <p class="hint" id="order-file-hint">
                  {t("disclosures.file.hint")}
                </p>
                <input
                  id="order-file"
                  type="file"
                  aria-describedby="order-file-hint"
                  disabled={hashing}
                  onChange={(event) => void hashFile(event.currentTarget)}
                />
              </div>
            </Group>
            <Group legend={t("disclosures.danger")}>
              <SelectField
                id="danger-category"
                label={t("grounds.category")}
                hint={t("disclosures.category.hint")}
                value={form.category}
                onValue={set("category")}
                options={[
                  { value: "", label: t("common.choose") },
                  ...CATEGORIES.map((item) => ({ value: item, label: label("category", item) })),
                ]}
                required
              />
              <TextArea
                id="danger-description"
                label={t("grounds.description")}
                hint={t("disclosures.description.hint")}
                value={form.description}
                onValue={set("description")}
                maxLength={TEXT_MAX}
                required
              />
            </Group>
          </>
        ) : null}
        {form.basis === "consent" ? (
          <Group legend={t("disclosures.consent")}>
            <TextField
              id="consent-recorded-by"
              label={t("grounds.recordedBy")}
              hint={t("disclosures.recordedBy.hint")}
              value={form.recordedBy}
              onValue={set("recordedBy")}
              maxLength={128}
              spellcheck={false}
              required
            />
            <TextField
              id="consent-recorded-at"
              label={t("grounds.recordedAt")}
              hint={t("disclosures.recordedAt.hint")}
              type="datetime-local"
              value={form.recordedAt}
              onValue={set("recordedAt")}
              required
            />
            <SelectField
              id="consent-method"
              label={t("grounds.method")}
              value={form.method}
              onValue={(value) => set("method")(METHODS.find((item) => item === value) ?? "")}
              options={[
                { value: "", label: t("common.choose") },
                ...METHODS.map((item) => ({ value: item, label: label("method", item) })),
              ]}
              required
            />
            <TextArea
              id="consent-statement"
              label={t("grounds.statement")}
              hint={t("disclosures.statement.hint")}
              value={form.statement}
              onValue={set("statement")}
              maxLength={TEXT_MAX}
              required
            />
          </Group>
        ) : null}
        {invalid !== null ? (
          <p class="message error" role="alert">
            {invalid}
          </p>
        ) : null}
        <button type="submit" disabled={busy || form.basis === ""}>
          {t("disclosures.submit")}
        </button>
      </form>
      <ErrorMessage problem={problem} />
    </section>
  );
}

function OwnRequests() {
  const [items, , problem] = useLoaded<DisclosureView[]>(
    () => unwrap(api().GET("/disclosures")).then((result) => result.items),
    [],
  );

  return (
    <section aria-labelledby="disclosure-own">
      <h2 id="disclosure-own">{t("disclosures.own")}</h2>
      <ErrorMessage problem={problem} />
      {items === null ? (
        problem === null ? <Loading /> : null
      ) : items.length === 0 ? (
        <Empty>{t("disclosures.own.empty")}</Empty>
      ) : (
        <table>
          <caption>{t("disclosures.own.caption", { n: items.length })}</caption>
          <thead>
            <tr>
              <th scope="col">{t("col.requestedAt")}</th>
              <th scope="col">{t("col.contactId")}</th>
              <th scope="col">{t("grounds.basis")}</th>
              <th scope="col">{t("col.status")}</th>
              <th scope="col">{t("col.actions")}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((request) => (
              <tr key={request.id}>
                <td>{dateTime(request.requested_at)}</td>
                <td>
                  <code class="id">{request.contact_id}</code>
                </td>
                <td>{label("basis", request.basis)}</td>
                <td>
                  {label("status", request.status)}
                  {READY.has(request.status) ? <strong class="badge">{t("disclosures.ready")}</strong> : null}
                </td>
                <td>
                  <a href={href("disclosures", request.id)}>
                    {t("disclosures.open")}
                    <span class="visually-hidden"> {request.id}</span>
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** Reveal once. The identifier is held in a ref (not in any store) and dropped on leaving the view. */
function Reveal({ request, onRetrieved }: { request: DisclosureView; onRetrieved: () => void }) {
  const result = useRef<DisclosureResult | null>(null);
  const [, rerender] = useState(0);
  const [confirming, setConfirming] = useState(false);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);
  const resultRef = useRef<HTMLElement>(null);

  useEffect(
    () => () => {
      result.current = null;
    },
    [],
  );

  const reveal = async (): Promise<void> => {
    setBusy(true);
    setProblem(null);
    try {
      result.current = await unwrap(
        api().GET("/disclosures/{id}/result", { params: { path: { id: request.id } }, cache: "no-store" }),
      );
      setConfirming(false);
      rerender((n) => n + 1);
      announce(t("disclosures.result.shown"));
      onRetrieved();
      window.setTimeout(() => resultRef.current?.focus(), 0);
    } catch (error) {
      setProblem(asProblem(error));
      setConfirming(false);
    } finally {
      setBusy(false);
    }
  };

  const hide = (): void => {
    result.current = null;
    rerender((n) => n + 1);
    announce(t("disclosures.result.hidden"));
  };

  const shown = result.current;
  if (shown !== null) {
    return (
      <section class="message result" aria-labelledby="result-title" tabIndex={-1} ref={resultRef}>
        <h2 id="result-title">{t("disclosures.result.title")}</h2>
        <p class="warning-text">
          <strong>{t("disclosures.result.gone")}</strong>
        </p>
        <Details
          items={[
            [t("disclosures.result.identifier"), <code class="identifier">{shown.identifier ?? "—"}</code>],
            [t("disclosures.result.type"), label("identifierType", shown.identifier_type)],
            [t("disclosures.result.providerReference"), shown.provider_reference ?? "—"],
            [t("grounds.basis"), label("basis", shown.basis)],
            [t("col.contactId"), <code class="id">{shown.contact_id}</code>],
            ...(shown.sender_authenticated === false
              ? ([[t("disclosures.result.sender"), <strong>{t("disclosures.result.senderForged")}</strong>]] as const)
              : shown.sender_authenticated === true
                ? ([[t("disclosures.result.sender"), t("disclosures.result.senderAuthenticated")]] as const)
                : []),
          ]}
        />
        <button type="button" class="secondary" onClick={hide}>
          {t("disclosures.result.hide")}
        </button>
      </section>
    );
  }

  if (!READY.has(request.status)) return <ErrorMessage problem={problem} />;
  return (
    <section class="message warning" aria-labelledby="reveal-title">
      <h2 id="reveal-title">{t("disclosures.reveal.title")}</h2>
      <p>{t("disclosures.reveal.warning")}</p>
      {request.result_expires_at ? (
        <p>{t("disclosures.reveal.until", { at: dateTime(request.result_expires_at) })}</p>
      ) : null}
      {confirming ? (
        <div role="group" aria-labelledby="reveal-confirm-text">
          <p id="reveal-confirm-text">
            <strong>{t("disclosures.reveal.confirmText")}</strong>
          </p>
          <button type="button" class="danger" disabled={busy} onClick={() => void reveal()}>
            {t("disclosures.reveal.confirm")}
          </button>{" "}
          <button type="button" class="secondary" onClick={() => setConfirming(false)}>
            {t("common.cancel")}
          </button>
        </div>
      ) : (
        <button type="button" onClick={() => setConfirming(true)}>
          {t("disclosures.reveal.button")}
        </button>
      )}
      <ErrorMessage problem={problem} />
    </section>
  );
}

function RequestDetail({ id }: { id: string }) {
  const [refresh, setRefresh] = useState(0);
  const [request, , problem] = useLoaded<DisclosureView>(
    () => unwrap(api().GET("/disclosures/{id}", { params: { path: { id } } })),
    [id, refresh],
  );

  return (
    <>
      <ViewHeading title={t("disclosures.detail.title", { id: shortId(id) })} focusKey={id} />
      <p>
        <a href={href("disclosures")}>{t("disclosures.back")}</a>
      </p>
      <ErrorMessage problem={problem} />
      {request === null ? (
        problem === null ? <Loading /> : null
      ) : (
        <>
          <StatusLine request={request} />
          <p class="hint">{label("statusExplain", request.status)}</p>
          <Reveal request={request} onRetrieved={() => setRefresh((n) => n + 1)} />
          <section aria-labelledby="request-grounds">
            <h2 id="request-grounds">{t("disclosures.grounds")}</h2>
            <Details
              items={[
                [t("col.requestId"), <code class="id">{request.id}</code>],
                [t("col.contactId"), <code class="id">{request.contact_id}</code>],
                [t("col.requestedAt"), dateTime(request.requested_at)],
              ]}
            />
            <Grounds request={request} />
            <Approvals request={request} />
          </section>
          <section aria-labelledby="request-timeline">
            <h2 id="request-timeline">{t("timeline.title")}</h2>
            <Timeline request={request} />
          </section>
        </>
      )}
    </>
  );
}

export function Disclosures({ session, param }: ViewProps) {
  if (param !== "") return <RequestDetail id={param} />;
  return (
    <>
      <ViewHeading title={t("nav.disclosures")} />
      <RequestFormSection username={session.username} />
      <OwnRequests />
    </>
  );
}
