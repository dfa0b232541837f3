import { compareIds } from "./order.js";

interface Entry {
  score: number;
  id: string;
}

/**
 * Ids ordered by a numeric score (then by id), like a Redis sorted set: a binary-searched
 * sorted array, so reading the lowest scores costs only what is read.
 */
export class SortedIndex {
  private readonly entries: Entry[] = [];
  private readonly scores = new Map<string, number>();

  get size(): number {
    return this.entries.length;
  }

  score(id: string): number | undefined {
    return this.scores.get(id);
  }

  /** Adds the id, or moves it to its new score. */
  set(id: string, score: number): void {
    const current = this.scores.get(id);
    if (current === score) return;
    if (current !== undefined) this.entries.splice(this.position(current, id), 1);
    this.entries.splice(this.position(score, id), 0, { score, id });
    this.scores.set(id, score);
  }

  delete(id: string): void {
    const current = this.scores.get(id);
    if (current === undefined) return;
    this.entries.splice(this.position(current, id), 1);
    this.scores.delete(id);
  }

  /** Ids with a score at or below `max`, lowest first, at most `limit`. */
  upTo(max: number, limit = Infinity): string[] {
    const ids: string[] = [];
    for (const entry of this.entries) {
      if (entry.score > max || ids.length >= limit) break;
      ids.push(entry.id);
    }
    return ids;
  }

  /** Ids from the highest score down (equal scores: highest id first). */
  *descending(): Generator<string> {
    for (let i = this.entries.length - 1; i >= 0; i--) yield this.entries[i]!.id;
  }

  /** Every id, lowest score first. */
  ids(): string[] {
    return this.entries.map((entry) => entry.id);
  }

  /** Where (score, id) is, or would be inserted. */
  private position(score: number, id: string): number {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const entry = this.entries[mid]!;
      if (entry.score < score || (entry.score === score && compareIds(entry.id, id) < 0)) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
