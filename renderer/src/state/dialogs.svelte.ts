/** Which of the app's dialogs is open (at most one is shown at a time by the app). */
export class Dialogs {
  save = $state(false);
  openPath = $state(false);
  help = $state(false);
  batch = $state(false);
  /** The Adapters panel (personal adapters from before/after pairs). */
  adapters = $state(false);
  /** The Models panel (installed packs; pulling from the Hub). */
  models = $state(false);

  get anyOpen(): boolean {
    return this.save || this.openPath || this.help || this.batch || this.adapters || this.models;
  }
}
