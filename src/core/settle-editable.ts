import type { HitlConfig } from "../config/schema.js";
import { describeEditable, hasEditableType, sameEditableField, toEditableField } from "./edited-fields.js";
import type { EditableField } from "./types.js";

type Requirement = NonNullable<HitlConfig["requirements"]>[number];

/**
 * What an approver may change on a request: the fields its applying `.hitl.yml` requirements
 * declare, with the requirements' own bounds, and any other fields the request adds. The owners
 * set how much room approvers have, so a request may repeat a requirement's field only exactly
 * as declared; two applying requirements that declare one field differently refuse the request.
 * A declared field that decision_data lacks, or holds with another type, is not editable here.
 */
export function settleEditable(
  applying: Requirement[],
  input: { decisionData: Record<string, unknown>; editableFields?: Record<string, EditableField> | undefined },
  violate: (path: string, message: string) => void,
): Record<string, EditableField> | undefined {
  const declared = new Map<string, { field: EditableField; by: string }>();
  const disagreeing = new Set<string>();
  for (const requirement of applying) {
    for (const [name, spec] of Object.entries(requirement.editable_fields ?? {})) {
      if (!Object.hasOwn(input.decisionData, name) || !hasEditableType(spec.type, input.decisionData[name])) continue;
      const field = toEditableField(spec);
      const first = declared.get(name);
      if (!first) declared.set(name, { field, by: requirement.name });
      else if (!sameEditableField(first.field, field) && !disagreeing.has(name)) {
        disagreeing.add(name);
        violate(`editable_fields.${name}`, `requirements ${first.by} and ${requirement.name} disagree`);
      }
    }
  }
  for (const [name, field] of Object.entries(input.editableFields ?? {})) {
    const owned = declared.get(name);
    if (owned && !sameEditableField(owned.field, field)) {
      violate(`editable_fields.${name}`, `.hitl.yml's requirement ${owned.by} declares it (${describeEditable(owned.field)}); a request may repeat it only exactly, or leave it out`);
    }
  }
  const fields: [string, EditableField][] = [...[...declared].map(([name, { field }]): [string, EditableField] => [name, field]), ...Object.entries(input.editableFields ?? {}).filter(([name]) => !declared.has(name))];
  return fields.length > 0 ? Object.fromEntries(fields) : undefined;
}
