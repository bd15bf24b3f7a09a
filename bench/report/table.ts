/** The pieces every table of latest.md is made of. */
import type { RunResult } from '../harness/result.js';
import { failedRuns, okRuns } from './aggregate.js';
import type { BenchReport } from './types.js';

/** A row of a table, or the failures that left it without numbers. */
export function failureNote(
  runs: readonly RunResult[],
  scenario: string,
  server: string,
): string | undefined {
  const failed = failedRuns(runs, scenario, server);
  if (failed.length === 0) return undefined;
  const first = (failed[0]?.failure ?? '').split('\n')[0]?.replaceAll('|', '/').slice(0, 160);
  return `${failed.length} of ${failed.length + okRuns(runs, scenario, server).length} runs failed: ${first}`;
}

export function cells(values: readonly string[]): string {
  return `| ${values.join(' | ')} |`;
}

/** A Markdown table: the first column (names) left-aligned, the figures right-aligned, unless `text`. */
export function table(header: readonly string[], rows: readonly string[], text = false): string[] {
  return [cells(header), cells(header.map((_, i) => (i === 0 || text ? '---' : '--:'))), ...rows];
}

export function serversIn(report: BenchReport, scenario: string): string[] {
  return report.servers
    .map((s) => s.name)
    .filter((name) => report.runs.some((r) => r.scenario === scenario && r.server === name));
}
