/** The model manager's Hub client: electron/hub's functions, as the manager calls them. */
import { describeRepo, licenceNeedsAcceptance, planPackFiles, pullPack, removePack, verifyPack } from '../hub/index.ts';
import type { HubClient } from './models.ts';

export const defaultHubClient: HubClient = {
  describeRepo,
  // what a pull would fetch: the pack's files and the small root extras (model card, licence text)
  selectFiles: (info, include) => planPackFiles(info, include ? { include } : {}),
  mustAccept: licenceNeedsAcceptance,
  pullPack,
  verifyPack,
  removePack,
};
