import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { groupCommit, type GroupCommit } from "../../src/store/group-commit.js";

describe("groupCommit", () => {
  let db: Database.Database;
  let commit: GroupCommit;
  let refuse: Error | null;
  const names = () => db.prepare("SELECT name FROM items ORDER BY name").pluck().all();
  const insert = (name: string, owner: string | null = null) => db.prepare("INSERT INTO items (name, owner) VALUES (?, ?)").run(name, owner);

  beforeEach(() => {
    db = new Database(":memory:");
    db.pragma("foreign_keys = ON");
    // A deferred foreign key fails at COMMIT, as a full disk would.
    db.exec(`CREATE TABLE owners (name TEXT PRIMARY KEY);
      CREATE TABLE items (name TEXT PRIMARY KEY, owner TEXT REFERENCES owners (name) DEFERRABLE INITIALLY DEFERRED);`);
    refuse = null;
    commit = groupCommit(db, () => {
      if (refuse) throw refuse;
    });
  });

  afterEach(() => db.close());

  it("commits the writes of one turn together, once", async () => {
    const results = await Promise.all([commit.write(() => insert("a")), commit.write(() => insert("b")), commit.read(() => names())]);
    expect(results[2]).toEqual(["a", "b"]);
    expect(commit.commits).toBe(1);
    expect(names()).toEqual(["a", "b"]);
  });

  it("undoes a write that throws alone; the others of its turn commit", async () => {
    const failing = commit.write(() => {
      insert("half");
      throw new Error("refused");
    });
    await expect(failing).rejects.toThrow("refused");
    await Promise.all([commit.write(() => insert("a")), commit.write(() => insert("b"))]);
    expect(names()).toEqual(["a", "b"]);
  });

  it("fails every write and read of a turn whose commit fails, keeps none of it, and goes on", async () => {
    const good = commit.write(() => insert("a"));
    const orphan = commit.write(() => insert("b", "nobody"));
    const read = commit.read(() => names());
    await expect(good).rejects.toThrow(/FOREIGN KEY/);
    await expect(orphan).rejects.toThrow(/FOREIGN KEY/);
    await expect(read).rejects.toThrow(/FOREIGN KEY/);
    expect(names()).toEqual([]);
    await commit.write(() => insert("c"));
    expect(names()).toEqual(["c"]);
  });

  it("writes nothing when `begin` refuses the transaction", async () => {
    refuse = new Error("not ours");
    await expect(commit.write(() => insert("a"))).rejects.toThrow("not ours");
    expect(db.inTransaction).toBe(false);
    refuse = null;
    await commit.write(() => insert("b"));
    expect(names()).toEqual(["b"]);
  });
});
