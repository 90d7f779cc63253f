/** A target from the issue, checked on the measured rows. */
export interface TargetCheck {
  target: string;
  /** true / false when measurable, null when a row is missing */
  met: boolean | null;
  detail: string;
}
