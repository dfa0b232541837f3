/**
 * Hidden markers let hitl find its own issue or comment again and edit it in place.
 * Agent text is escaped before it reaches a body (see format.ts), so it cannot forge one.
 */

const REQUEST_MARKER = /<!-- hitl:request:([A-Za-z0-9_-]+) -->/;

export function requestMarker(id: string): string {
  return `<!-- hitl:request:${id} -->`;
}

/** The request id from the first marker in a body, or null. */
export function findRequestMarker(body: string): string | null {
  return REQUEST_MARKER.exec(body)?.[1] ?? null;
}

/** Marks the comment that shows a request's outcome, so a retried update does not post it twice. */
export function outcomeMarker(id: string): string {
  return `<!-- hitl:outcome:${id} -->`;
}
