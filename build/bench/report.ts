/** The bench's outputs: one JSON document and its Markdown rendering (also printed). */
import type { SectionResult } from './section.ts';
import type { MachineDescription } from './stats.ts';
import { machineLine } from './stats.ts';

export interface BenchReport {
  schema: 1;
  /** ISO timestamp of the start */
  startedAt: string;
  quick: boolean;
  machine: MachineDescription;
  packs: { dir: string; testPacks: boolean; names: string[] };
  protocol: string;
  /** 1-minute load average when the last section ended (other work on the machine skews timings) */
  loadAverageEnd?: number;
  sections: (SectionResult | { id: string; title: string; error: string; seconds: number })[];
}

function cell(v: unknown): string {
  return String(v ?? '').replace(/\|/g, '\\|');
}

export function table(rows: readonly Record<string, unknown>[]): string {
  if (rows.length === 0) return '_no rows_';
  const keys = Object.keys(rows[0]!);
  return [`| ${keys.join(' | ')} |`, `|${keys.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${keys.map((k) => cell(r[k])).join(' | ')} |`)].join('\n');
}

function goalMark(met: boolean | null): string {
  return met === true ? 'met' : met === false ? 'NOT met' : 'not measured';
}

export function toMarkdown(r: BenchReport): string {
  const out: string[] = [
    `# CoDi Studio benchmark ${r.startedAt.slice(0, 10)}${r.quick ? ' (--quick)' : ''}`,
    '',
    `Machine: ${machineLine(r.machine)}${r.loadAverageEnd !== undefined ? `, ${r.loadAverageEnd} at the end` : ''}`,
    '',
    `Packs: ${r.packs.testPacks ? 'tiny randomly initialised test packs (timings only)' : r.packs.names.join(', ')}. ${r.protocol}`,
    '',
    '## Goals',
    '',
    table(
      r.sections.map((s) =>
        'error' in s ? { section: s.title, goal: '', status: 'error', measured: s.error } : { section: s.title, goal: s.goal?.text ?? '—', status: s.goal ? goalMark(s.goal.met) : '—', measured: s.goal?.measured ?? '' },
      ),
    ),
  ];
  for (const s of r.sections) {
    out.push('', `## ${s.title} (${s.seconds.toFixed(0)} s)`, '');
    if ('error' in s) {
      out.push(`Error: ${s.error}`);
      continue;
    }
    out.push(table(s.rows));
    if (s.notes.length) out.push('', ...s.notes.map((n) => `- ${n}`));
  }
  return `${out.join('\n')}\n`;
}
