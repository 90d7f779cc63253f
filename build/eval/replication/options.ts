// The harness's options, in their own module: main.ts resolves them and evaluate.ts reads them,
// and neither may import the other (tests/architecture forbids import circles).
import type { ReplicationScale } from './plan.ts';

export interface ReplicationOptions {
  scale: ReplicationScale;
  seeds: number;
  /** seeds run are firstSeed … firstSeed + seeds − 1 */
  firstSeed: number;
  phase: 'train' | 'eval' | 'all';
  threads: number;
  runsDir: string;
  dataRoot: string;
  backbone: string;
  resultsDir: string;
  date: string;
  log: (line: string) => void;
}
