import { actionKind } from "../../core/decide.js";
import { truncate } from "../../core/render/format.js";
import { inertChatText, slackText } from "../../core/render/inert.js";
import type { ApprovalRequest, EditableField } from "../../core/types.js";
import { signActionRef, type ActionRef } from "./action-ref.js";
import { actionTitle, type Block } from "./blocks.js";

export const FORM_CALLBACK_ID = "hitl_decision";

/** What the form's `private_metadata` carries back: the signed button, the message, the editable fields shown. */
export interface FormMetadata {
  ref: string;
  message?: { channel: string; ts: string };
  fields?: { name: string; type: EditableField["type"] }[];
}

const plain = (text: string, max: number) => ({ type: "plain_text", text: truncate(text, max), emoji: false });

/**
 * The form (`views.open`) for a decision that must carry more than a press: a reason code for a
 * rejection where the request lists them, the editable fields for an approval, and the
 * justification (required when the request asks for one). What comes back is checked by the
 * engine like a comment's text would be.
 */
export function decisionForm(request: ApprovalRequest, ref: ActionRef, message: { channel: string; ts: string } | undefined, signingSecret: string): Block {
  const kind = actionKind(request, ref.action);
  const title = actionTitle(request, request.availableActions.find((action) => action.id === ref.action) ?? { id: ref.action, label: ref.action });
  const blocks: Block[] = [{ type: "section", text: { type: "mrkdwn", text: truncate(`*${slackText(title)}*: ${slackText(inertChatText(request.taskDescription))}`, 3000) } }];
  const reasons = kind === "reject" ? (request.feedback?.reasons ?? []) : [];
  if (reasons.length > 0) {
    blocks.push({
      type: "input",
      block_id: "reason_code",
      label: plain("Reason", 2000),
      element: { type: "static_select", action_id: "value", options: reasons.slice(0, 100).map((code) => ({ text: plain(code, 75), value: code })) },
    });
  }
  const fields = kind === "approve" ? Object.entries(request.editableFields ?? {}).slice(0, 20) : [];
  fields.forEach(([name, field], index) => {
    const current = request.decisionData[name];
    blocks.push({
      type: "input",
      block_id: `field_${index}`,
      optional: true,
      label: plain(inertChatText(name), 2000),
      element: { type: "plain_text_input", action_id: "value", ...(current !== undefined && current !== null ? { initial_value: truncate(String(current), 3000) } : {}) },
      hint: plain(boundsOf(field), 2000),
    });
  });
  const minLength = request.feedback?.minLength ?? 0;
  blocks.push({
    type: "input",
    block_id: "justification",
    optional: minLength === 0,
    label: plain("Justification", 2000),
    element: { type: "plain_text_input", action_id: "value", multiline: true, max_length: 3000, ...(minLength > 0 ? { min_length: Math.min(minLength, 3000) } : {}) },
  });
  const metadata: FormMetadata = { ref: signActionRef(signingSecret, ref), ...(message ? { message } : {}), ...(fields.length ? { fields: fields.map(([name, field]) => ({ name, type: field.type })) } : {}) };
  return {
    type: "modal",
    callback_id: FORM_CALLBACK_ID,
    title: plain(kind === "reject" ? "Reject" : "Decide", 24),
    submit: plain("Submit", 24),
    close: plain("Cancel", 24),
    private_metadata: JSON.stringify(metadata),
    blocks,
  };
}

function boundsOf(field: EditableField): string {
  switch (field.type) {
    case "number":
      return `A number${field.minimum !== undefined ? `, at least ${field.minimum}` : ""}${field.maximum !== undefined ? `, at most ${field.maximum}` : ""}. Change it to approve with a new value.`;
    case "string":
      return field.enum ? `One of: ${field.enum.join(", ")}.` : `Text${field.maxLength !== undefined ? `, at most ${field.maxLength} characters` : ""}.`;
    case "boolean":
      return "true or false.";
  }
}

const valueAt = (values: Record<string, Record<string, { value?: unknown; selected_option?: { value?: unknown } | null }>>, block: string): string | undefined => {
  const entry = values[block]?.value;
  const value = entry?.selected_option?.value ?? entry?.value;
  return typeof value === "string" ? value : undefined;
};

/** What the person filled in: the justification, the reason code, and the fields they changed (typed as declared). */
export function readForm(state: unknown, metadata: FormMetadata, request: Pick<ApprovalRequest, "decisionData"> | null): { justification?: string; reasonCode?: string; editedFields?: Record<string, unknown> } {
  const values = (typeof state === "object" && state !== null ? (state as { values?: unknown }).values : undefined) as Parameters<typeof valueAt>[0] | undefined;
  if (!values) return {};
  const justification = valueAt(values, "justification");
  const reasonCode = valueAt(values, "reason_code");
  const edited: Record<string, unknown> = {};
  (metadata.fields ?? []).forEach(({ name, type }, index) => {
    const given = valueAt(values, `field_${index}`);
    if (given === undefined) return;
    const current = request?.decisionData[name];
    if (current !== undefined && current !== null && String(current) === given) return;
    edited[name] = type === "number" && given.trim() !== "" && Number.isFinite(Number(given)) ? Number(given) : type === "boolean" && (given === "true" || given === "false") ? given === "true" : given;
  });
  return {
    ...(justification ? { justification } : {}),
    ...(reasonCode ? { reasonCode } : {}),
    ...(Object.keys(edited).length > 0 ? { editedFields: edited } : {}),
  };
}
