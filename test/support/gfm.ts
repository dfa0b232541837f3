import { fromMarkdown } from "mdast-util-from-markdown";
import { gfmFromMarkdown } from "mdast-util-gfm";
import { gfm } from "micromark-extension-gfm";

/**
 * Markdown parsed the way GitHub parses it before its own filters run: CommonMark with the GFM
 * extensions (tables, strikethrough, task lists, footnotes, autolink literals), by micromark,
 * which passes the CommonMark and GFM spec suites.
 */
/** An mdast node, as far as the tests look at it. */
export interface MdNode {
  type: string;
  value?: string;
  url?: string;
  depth?: number;
  ordered?: boolean | null;
  lang?: string | null;
  align?: (string | null)[] | null;
  children?: MdNode[];
}

export function parseGfm(markdown: string): MdNode {
  return fromMarkdown(markdown, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] });
}

/**
 * The shape of a tree: node types (with the attributes that change how it shows), text left
 * out and adjacent text merged. Two renderings that differ only in what the text says have
 * the same skeleton.
 */
export function skeleton(node: MdNode): string {
  const attrs =
    node.type === "heading"
      ? `:${node.depth}`
      : node.type === "list"
        ? `:${node.ordered ? "ol" : "ul"}`
        : node.type === "code"
          ? `:${node.lang ?? ""}`
          : node.type === "table"
            ? `:${node.align?.join(",") ?? ""}`
            : "";
  if (!node.children) return `${node.type}${attrs}`;
  const children: string[] = [];
  for (const child of node.children) {
    const shape = skeleton(child);
    if (shape === "text" && children.at(-1) === "text") continue;
    children.push(shape);
  }
  return `${node.type}${attrs}(${children.join(" ")})`;
}

/** Every node of the tree, depth first. */
export function allNodes(node: MdNode): MdNode[] {
  return [node, ...(node.children ?? []).flatMap(allNodes)];
}
